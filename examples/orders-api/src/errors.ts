import { GatehouseError, type GatehouseErrorOptions } from '@gatehouse/jwt/errors'

/**
 * The orders API's own errors (token and scope errors come from `@gatehouse/jwt`). Rendered as
 * RFC 9457 problem+json by `http/problem.ts`; `message` is what the client reads.
 */
export abstract class OrdersApiError extends GatehouseError {
  abstract readonly reason: string
}

/**
 * 404 for an order that does not exist *and* for one the caller may not read: the two answers are
 * byte-for-byte the same, so a caller cannot learn which order ids exist (see the README).
 */
export class OrderNotFound extends OrdersApiError {
  readonly code = 'not_found'
  readonly status = 404
  readonly reason: 'order.not_found' | 'policy.denied'
  constructor(reason: 'order.not_found' | 'policy.denied', options?: GatehouseErrorOptions) {
    super('no such order', options)
    this.reason = reason
  }
}

/** 409: the order's state does not allow the change (e.g. cancelling a shipped order). */
export class OrderConflict extends OrdersApiError {
  readonly code = 'conflict'
  readonly status = 409
  readonly reason = 'order.state_conflict'
}

/** 403: the TLS peer's certificate chains to the client CA but its subject is not allowed. */
export class ClientCertificateNotAllowed extends OrdersApiError {
  readonly code = 'access_denied'
  readonly status = 403
  readonly reason = 'mtls.subject_not_allowed'
  constructor(options?: GatehouseErrorOptions) {
    super('this client certificate may not call this API', options)
  }
}
