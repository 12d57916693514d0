/**
 * The error family of `@gatehouse/jwt`.
 *
 * Two kinds of failure are never mixed (as in jose): a caller or configuration mistake throws a
 * `TypeError` when the validator is created; a bad token or request rejects `validate()` with a
 * `BearerError` subclass. Every `BearerError` carries
 *  - `code`: the RFC 6750 §3.1 error code the client sees (`invalid_request`, `invalid_token`,
 *    `insufficient_scope`), or a Gatehouse code for the few cases RFC 6750 has none for;
 *  - `reason`: a stable, finer-grained code (`jwt.alg_not_allowed`, …) for logs and metrics only;
 *  - `status`: the HTTP status a resource server answers with;
 *  - `message`: a safe description that never contains the token or any part of it.
 * `detail` is for logs only and is never rendered to a client.
 */

export interface GatehouseErrorOptions {
  cause?: unknown
  /** For logs only, never serialised to a client. Must not contain tokens or secrets. */
  detail?: string
}

export abstract class GatehouseError extends Error {
  abstract readonly code: string
  abstract readonly status: number
  /** `false` → renderers answer a generic server error instead of this error's message. */
  readonly expose: boolean = true
  readonly detail: string | undefined

  constructor(message: string, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.detail = options.detail
  }
}

/** RFC 6750 errors raised by resource servers (the gateway, APIs) about a bearer token. */
export abstract class BearerError extends GatehouseError {
  abstract override readonly code:
    | 'invalid_request'
    | 'invalid_token'
    | 'insufficient_scope'
    | 'access_denied'
    | 'missing_token'
  abstract readonly reason: string
}

// ---------------------------------------------------------------------------------------------
// 401 invalid_token (RFC 6750 §3.1): the token is malformed, expired, revoked or otherwise invalid.
// ---------------------------------------------------------------------------------------------

export abstract class InvalidToken extends BearerError {
  readonly code = 'invalid_token' as const
  readonly status = 401
}

export class MalformedToken extends InvalidToken {
  readonly reason = 'jwt.malformed'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token is not a well-formed JWS compact serialization', options)
  }
}

export class TokenTooLarge extends InvalidToken {
  readonly reason = 'jwt.too_large'
  constructor(
    readonly maxBytes: number,
    options?: GatehouseErrorOptions,
  ) {
    super(`the access token is larger than ${maxBytes} bytes`, options)
  }
}

export class AlgorithmNotAllowed extends InvalidToken {
  readonly reason = 'jwt.alg_not_allowed'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token is signed with an algorithm that is not allowed', options)
  }
}

export class UnknownKeyId extends InvalidToken {
  readonly reason = 'jwt.unknown_kid'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token is signed with a key the issuer does not publish', options)
  }
}

export class KeyAlgorithmMismatch extends InvalidToken {
  readonly reason = 'jwt.key_alg_mismatch'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token algorithm does not match the algorithm its key is bound to', options)
  }
}

export class InvalidSignature extends InvalidToken {
  readonly reason = 'jwt.bad_signature'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token signature is invalid', options)
  }
}

export class TokenExpired extends InvalidToken {
  readonly reason = 'jwt.expired'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token expired', options)
  }
}

export class TokenNotYetValid extends InvalidToken {
  readonly reason = 'jwt.not_yet_valid'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token is not valid yet', options)
  }
}

export class IssuedInFuture extends InvalidToken {
  readonly reason = 'jwt.iat_in_future'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token was issued in the future', options)
  }
}

export class IssuerMismatch extends InvalidToken {
  readonly reason = 'jwt.wrong_issuer'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token was not issued by the expected issuer', options)
  }
}

export class AudienceMismatch extends InvalidToken {
  readonly reason = 'jwt.wrong_audience'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token is not intended for this audience', options)
  }
}

export class TypeMismatch extends InvalidToken {
  readonly reason = 'jwt.wrong_typ'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token has an unexpected type (typ header)', options)
  }
}

export class UnsupportedCriticalHeader extends InvalidToken {
  readonly reason = 'jwt.unknown_crit'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token has a critical header parameter that is not understood', options)
  }
}

export class UnencodedPayload extends InvalidToken {
  readonly reason = 'jwt.b64_false'
  constructor(options?: GatehouseErrorOptions) {
    super('the access token uses an unencoded payload (b64: false), which is not allowed', options)
  }
}

export class MissingClaim extends InvalidToken {
  readonly reason = 'jwt.missing_claim'
  constructor(
    readonly claim: string,
    options?: GatehouseErrorOptions,
  ) {
    super(`the access token lacks the required "${claim}" claim`, options)
  }
}

export class InvalidClaim extends InvalidToken {
  readonly reason = 'jwt.invalid_claim'
  constructor(
    readonly claim: string,
    options?: GatehouseErrorOptions,
  ) {
    super(`the access token has an invalid "${claim}" claim`, options)
  }
}

// ---------------------------------------------------------------------------------------------
// Request-level failures of the bearer-token transmission (RFC 6750 §2 and §3.1).
// ---------------------------------------------------------------------------------------------

/** RFC 6750 §3.1: no authentication information at all, or an unsupported scheme: no error code. */
export class MissingToken extends BearerError {
  readonly code = 'missing_token' as const
  readonly status = 401
  readonly reason = 'bearer.missing'
  constructor(options?: GatehouseErrorOptions) {
    super('an access token is required (Authorization: Bearer)', options)
  }
}

export const BEARER_REQUEST_REASONS = [
  'bearer.malformed_header',
  'bearer.multiple_headers',
  'bearer.token_in_query',
  'bearer.token_in_body',
] as const

/** RFC 6750 §3.1 invalid_request: a malformed request, e.g. two Authorization headers. */
export class InvalidBearerRequest extends BearerError {
  readonly code = 'invalid_request' as const
  readonly status = 400
  constructor(
    readonly reason: (typeof BEARER_REQUEST_REASONS)[number],
    message: string,
    options?: GatehouseErrorOptions,
  ) {
    super(message, options)
  }
}

// ---------------------------------------------------------------------------------------------
// 403: valid token, not enough rights.
// ---------------------------------------------------------------------------------------------

/** RFC 6750 §3.1 insufficient_scope; `requiredScope` goes into the `scope` auth-param. */
export class InsufficientScope extends BearerError {
  readonly code = 'insufficient_scope' as const
  readonly status = 403
  readonly reason = 'scope.insufficient'
  readonly requiredScope: string
  constructor(requiredScopes: readonly string[], options?: GatehouseErrorOptions) {
    super('the access token does not carry the scope this request requires', options)
    this.requiredScope = requiredScopes.join(' ')
  }
}

/** A claims policy denied the request (deny by default). No RFC 6750 code exists for this. */
export class AccessDenied extends BearerError {
  readonly code = 'access_denied' as const
  readonly status = 403
  readonly reason = 'policy.denied'
  constructor(
    readonly action: string,
    options?: GatehouseErrorOptions,
  ) {
    super('the access token does not allow this action on this resource', options)
  }
}

// ---------------------------------------------------------------------------------------------
// Not the client's fault: the issuer's key set cannot be had. Answer 503, never 401, so clients
// do not throw away good tokens during an issuer outage.
// ---------------------------------------------------------------------------------------------

export class KeySetUnavailable extends GatehouseError {
  readonly code = 'temporarily_unavailable' as const
  readonly status = 503
  readonly reason = 'jwks.unavailable'
  constructor(options?: GatehouseErrorOptions) {
    super('the token issuer keys cannot be fetched right now', options)
  }
}

export type AnyInvalidToken =
  | MalformedToken
  | TokenTooLarge
  | AlgorithmNotAllowed
  | UnknownKeyId
  | KeyAlgorithmMismatch
  | InvalidSignature
  | TokenExpired
  | TokenNotYetValid
  | IssuedInFuture
  | IssuerMismatch
  | AudienceMismatch
  | TypeMismatch
  | UnsupportedCriticalHeader
  | UnencodedPayload
  | MissingClaim
  | InvalidClaim

/** Everything `validate()` rejects with. */
export type ValidationError = AnyInvalidToken | KeySetUnavailable

/** Everything the middleware can answer with. */
export type AnyBearerError =
  | AnyInvalidToken
  | MissingToken
  | InvalidBearerRequest
  | InsufficientScope
  | AccessDenied
