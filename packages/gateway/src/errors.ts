import { GatehouseError, type GatehouseErrorOptions, InvalidToken } from '@gatehouse/jwt/errors'

/**
 * The gateway's own request-time failures, rendered as RFC 9457 problem+json. Token failures use
 * the `BearerError` family of `@gatehouse/jwt` and are rendered with RFC 6750 `WWW-Authenticate`.
 * Every error carries a stable `reason` for logs and metrics; clients see `code` and `message` only.
 */
export abstract class GatewayError extends GatehouseError {
  abstract readonly reason: string
  /** Extra response headers (Allow, Retry-After, RateLimit, …). */
  readonly headers: Readonly<Record<string, string>> = {}
}

export class BadRequestPath extends GatewayError {
  readonly code = 'bad_request'
  readonly status = 400
  constructor(
    readonly reason: `path.${string}`,
    options?: GatehouseErrorOptions,
  ) {
    super('the request path is not acceptable', options)
  }
}

export class UnexpectedParameter extends GatewayError {
  readonly code = 'bad_request'
  readonly status = 400
  readonly reason = 'request.unexpected_param'
  constructor() {
    super('the request has a query parameter this API does not take')
  }
}

export class CorsOriginNotAllowed extends GatewayError {
  readonly code = 'forbidden'
  readonly status = 403
  readonly reason = 'cors.origin_not_allowed'
  constructor() {
    super('this origin may not call this route from a browser')
  }
}

export class RouteNotFound extends GatewayError {
  readonly code = 'not_found'
  readonly status = 404
  readonly reason = 'route.not_found'
  constructor() {
    super('no route matches this request')
  }
}

export class MethodNotAllowed extends GatewayError {
  readonly code = 'method_not_allowed'
  readonly status = 405
  readonly reason = 'route.method_not_allowed'
  override readonly headers: Readonly<Record<string, string>>
  constructor(allowed: readonly string[]) {
    super('this method is not allowed on this route')
    this.headers = { allow: allowed.join(', ') }
  }
}

export class UnsupportedMediaType extends GatewayError {
  readonly code = 'unsupported_media_type'
  readonly status = 415
  readonly reason = 'request.content_type'
  constructor() {
    super('this content type is not accepted on this route')
  }
}

export class PayloadTooLarge extends GatewayError {
  readonly code = 'payload_too_large'
  readonly status = 413
  readonly reason = 'request.too_large'
  constructor(readonly maxBytes: number) {
    super(`the request body exceeds ${maxBytes} bytes`)
  }
}

export class Blocked extends GatewayError {
  readonly code = 'forbidden'
  readonly status = 403
  constructor(readonly reason: 'block.ip' | 'block.client' | 'block.subject' | 'block.abuse') {
    super('access from this client is blocked')
  }
}

export class RateLimited extends GatewayError {
  readonly code = 'too_many_requests'
  readonly status = 429
  readonly reason = 'rate.limited'
  override readonly headers: Readonly<Record<string, string>>
  constructor(
    readonly policy: string,
    retryAfterSeconds: number,
    headers: Readonly<Record<string, string>>,
  ) {
    super('too many requests, slow down')
    this.headers = { 'retry-after': String(retryAfterSeconds), ...headers }
  }
}

export class UpstreamTimeout extends GatewayError {
  readonly code = 'gateway_timeout'
  readonly status = 504
  readonly reason = 'upstream.timeout'
  constructor(options?: GatehouseErrorOptions) {
    super('the upstream service did not answer in time', options)
  }
}

export class UpstreamUnavailable extends GatewayError {
  readonly code = 'bad_gateway'
  readonly status = 502
  readonly reason = 'upstream.unavailable'
  constructor(options?: GatehouseErrorOptions) {
    super('the upstream service cannot be reached', options)
  }
}

/** The authorization server cannot introspect right now: 503, never a 401 that would make clients drop good tokens. */
export class IntrospectionUnavailable extends GatewayError {
  readonly code = 'temporarily_unavailable'
  readonly status = 503
  readonly reason = 'phantom.introspection_unavailable'
  override readonly headers = { 'retry-after': '5' }
  constructor(options?: GatehouseErrorOptions) {
    super('the token cannot be checked right now, retry shortly', options)
  }
}

/** Split-token state is unreachable: 503 for the same reason. */
export class StateUnavailable extends GatewayError {
  readonly code = 'temporarily_unavailable'
  readonly status = 503
  readonly reason = 'state.unavailable'
  override readonly headers = { 'retry-after': '5' }
  constructor(options?: GatehouseErrorOptions) {
    super('the token cannot be checked right now, retry shortly', options)
  }
}

/** A configuration that is invalid or unsafe. Thrown at load, never per request. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid gateway configuration:\n  - ${issues.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

/** 401 invalid_token raised by the gateway's own token methods (phantom, split). */
export class GatewayInvalidToken extends InvalidToken {
  constructor(
    readonly reason:
      | 'phantom.inactive'
      | 'phantom.jwt_presented'
      | 'split.unknown'
      | 'split.revoked'
      | 'jwt.revoked'
      | 'split.full_jwt_presented'
      | 'split.malformed',
    message: string,
    options?: GatehouseErrorOptions,
  ) {
    super(message, options)
  }
}
