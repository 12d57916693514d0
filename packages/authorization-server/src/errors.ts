import { GatehouseError, type GatehouseErrorOptions } from '@gatehouse/jwt/errors'

/**
 * The OAuth error family of the authorization server (RFC 6749 §5.2, RFC 6750 §3.1 for
 * /userinfo, RFC 7009 §2.2.1, RFC 8707 §2, RFC 9126). `code` is what the client sees; `reason`
 * is a stable, finer code for logs, metrics and the audit trail only; `message` is a safe
 * `error_description` that never contains a token, secret or password.
 */
export abstract class OAuthError extends GatehouseError {
  abstract override readonly code: OAuthErrorCode
  readonly reason: string

  constructor(message: string, reason: string, options: GatehouseErrorOptions = {}) {
    super(message, options)
    this.reason = reason
  }
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'unsupported_response_type'
  | 'access_denied'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_request_uri'
  | 'login_required'
  | 'consent_required'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'not_found'
  | 'method_not_allowed'

export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request' as const
  readonly status = 400
}

export class RequestTooLarge extends OAuthError {
  readonly code = 'invalid_request' as const
  readonly status = 413
}

/** RFC 6749 §5.2: 401, with `WWW-Authenticate: Basic` when the client tried (or must use) Basic. */
export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client' as const
  readonly status = 401
  constructor(
    message: string,
    reason: string,
    readonly challengeBasic: boolean,
    options?: GatehouseErrorOptions,
  ) {
    super(message, reason, options)
  }
}

export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant' as const
  readonly status = 400
}

export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client' as const
  readonly status = 400
}

export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type' as const
  readonly status = 400
}

export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope' as const
  readonly status = 400
}

/** RFC 8707 §2: the requested resource is invalid, unknown or not allowed for this client. */
export class InvalidTarget extends OAuthError {
  readonly code = 'invalid_target' as const
  readonly status = 400
}

export class UnsupportedTokenType extends OAuthError {
  readonly code = 'unsupported_token_type' as const
  readonly status = 400
}

export class UnsupportedResponseType extends OAuthError {
  readonly code = 'unsupported_response_type' as const
  readonly status = 400
}

export class AccessDenied extends OAuthError {
  readonly code = 'access_denied' as const
  readonly status = 403
}

/** RFC 9126 §2.2 / RFC 6749 §4.1.2.1: `request_uri` unknown, expired or of another client. */
export class InvalidRequestUri extends OAuthError {
  readonly code = 'invalid_request_uri' as const
  readonly status = 400
}

/** RFC 6750 §3.1, for /userinfo and the admin API. */
export class InvalidToken extends OAuthError {
  readonly code = 'invalid_token' as const
  readonly status = 401
}

export class InsufficientScope extends OAuthError {
  // RFC 6750 §3.1, rendered with a Bearer challenge.
  readonly code = 'insufficient_scope' as const
  readonly status = 403
}

export class NotFound extends OAuthError {
  readonly code = 'not_found' as const
  readonly status = 404
}

export class MethodNotAllowed extends OAuthError {
  readonly code = 'method_not_allowed' as const
  readonly status = 405
  constructor(readonly allow: readonly string[]) {
    super('method not allowed', 'http.method_not_allowed')
  }
}

/**
 * The server cannot do its work right now (its store is unreachable or overloaded): 503 with
 * `Retry-After`, so a client retries later instead of treating a good grant or token as bad.
 * RFC 6749 §4.1.2.1 defines the code; every endpoint uses it the same way.
 */
export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable' as const
  readonly status = 503
  readonly retryAfterSeconds = 5
}

/** The store (either driver) cannot serve the request now; `cause` is kept for the logs only. */
export function storeUnavailable(cause: unknown): TemporarilyUnavailable {
  return new TemporarilyUnavailable(
    'the authorization server cannot reach its store; try again shortly',
    'store.unavailable',
    { cause },
  )
}

export class ServerError extends OAuthError {
  readonly code = 'server_error' as const
  readonly status = 500
  override readonly expose = false
}

export type AnyOAuthError =
  | InvalidRequest
  | RequestTooLarge
  | InvalidClient
  | InvalidGrant
  | UnauthorizedClient
  | UnsupportedGrantType
  | InvalidScope
  | InvalidTarget
  | UnsupportedTokenType
  | UnsupportedResponseType
  | AccessDenied
  | InvalidRequestUri
  | InvalidToken
  | InsufficientScope
  | NotFound
  | MethodNotAllowed
  | TemporarilyUnavailable
  | ServerError
  | LoginRequired
  | ConsentRequired

/** OIDC Core §3.1.2.6, for `prompt=none`. */
export class LoginRequired extends OAuthError {
  readonly code = 'login_required' as const
  readonly status = 400
}

export class ConsentRequired extends OAuthError {
  readonly code = 'consent_required' as const
  readonly status = 400
}
