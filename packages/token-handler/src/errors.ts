import { GatehouseError, type GatehouseErrorOptions } from '@gatehouse/jwt/errors'

/**
 * The error family of the token handler. `code` is the stable value the single-page app switches
 * on (documented in docs/token-handler.md); `reason` is a finer code for logs, metrics and the
 * audit trail only; `message` is safe to show and never contains a token, cookie or secret.
 * Errors are rendered as RFC 9457 problem+json by the HTTP adapter.
 */
export abstract class TokenHandlerError extends GatehouseError {
  abstract override readonly code: TokenHandlerErrorCode
  readonly reason: string

  constructor(message: string, reason: string, options: GatehouseErrorOptions = {}) {
    super(message, options)
    this.reason = reason
  }
}

/** Every code the token handler answers with; docs/token-handler.md lists each (a test checks). */
export const TOKEN_HANDLER_ERROR_CODES = [
  'invalid_request',
  'origin_not_allowed',
  'csrf_failed',
  'invalid_cookie',
  'session_expired',
  'access_token_expired',
  'login_failed',
  'authorization_server_unavailable',
  'not_found',
  'method_not_allowed',
  'request_too_large',
  'unsupported_media_type',
  'internal_error',
] as const
export type TokenHandlerErrorCode = (typeof TOKEN_HANDLER_ERROR_CODES)[number]

export class InvalidRequest extends TokenHandlerError {
  readonly code = 'invalid_request' as const
  readonly status = 400
}

/** The request's `Origin` is missing, `null` or not in the exact allow-list. */
export class OriginNotAllowed extends TokenHandlerError {
  readonly code = 'origin_not_allowed' as const
  readonly status = 403
}

/** The CSRF header is missing or does not match the CSRF cookie. */
export class CsrfFailed extends TokenHandlerError {
  readonly code = 'csrf_failed' as const
  readonly status = 401
}

/** A cookie could not be opened: tampered, truncated, swapped, or sealed under an unknown key. */
export class InvalidCookie extends TokenHandlerError {
  readonly code = 'invalid_cookie' as const
  readonly status = 401
}

/** No usable session: the SPA must log in again. */
export class SessionExpired extends TokenHandlerError {
  readonly code = 'session_expired' as const
  readonly status = 401
}

/** The access-token cookie is gone or past its expiry: the SPA calls `/refresh`. */
export class AccessTokenExpired extends TokenHandlerError {
  readonly code = 'access_token_expired' as const
  readonly status = 401
}

/** The login could not be completed (state mismatch, refused code, invalid ID token, denial). */
export class LoginFailed extends TokenHandlerError {
  readonly code = 'login_failed' as const
  readonly status = 400
  constructor(
    message: string,
    reason: string,
    /** The authorization server's RFC 6749 error code, when it sent one. */
    readonly oauthError: string | undefined = undefined,
    options?: GatehouseErrorOptions,
  ) {
    super(message, reason, options)
  }
}

/**
 * The authorization server could not be reached or timed out (503), or answered something the
 * token handler cannot use (502). Never a 401: the session may be fine, so the SPA retries later
 * rather than logging the user in again.
 */
export class AuthorizationServerUnavailable extends TokenHandlerError {
  readonly code = 'authorization_server_unavailable' as const
  readonly status: 502 | 503
  constructor(
    message: string,
    reason: string,
    kind: 'unreachable' | 'bad_response',
    options?: GatehouseErrorOptions,
  ) {
    super(message, reason, options)
    this.status = kind === 'unreachable' ? 503 : 502
  }
}

export class NotFound extends TokenHandlerError {
  readonly code = 'not_found' as const
  readonly status = 404
}

export class MethodNotAllowed extends TokenHandlerError {
  readonly code = 'method_not_allowed' as const
  readonly status = 405
  constructor(
    readonly allow: string,
    reason = 'http.method_not_allowed',
  ) {
    super('method not allowed', reason)
  }
}

export class RequestTooLarge extends TokenHandlerError {
  readonly code = 'request_too_large' as const
  readonly status = 413
}

export class UnsupportedMediaType extends TokenHandlerError {
  readonly code = 'unsupported_media_type' as const
  readonly status = 415
}

export type AnyTokenHandlerError =
  | InvalidRequest
  | OriginNotAllowed
  | CsrfFailed
  | InvalidCookie
  | SessionExpired
  | AccessTokenExpired
  | LoginFailed
  | AuthorizationServerUnavailable
  | NotFound
  | MethodNotAllowed
  | RequestTooLarge
  | UnsupportedMediaType
