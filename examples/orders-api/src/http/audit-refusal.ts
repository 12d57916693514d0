import type { AuditBus, AuditDetails } from '@gatehouse/audit'
import type { FastifyRequest } from 'fastify'

/**
 * Records a refused request as an `access.denied` audit event, joined to the gateway's trail by
 * `requestId` (the gateway's `X-Request-Id`) and `tokenId` (the token's `jti`). Covers token and
 * scope failures (`jwt.*`, `bearer.*`, `scope.insufficient`), claims-policy refusals
 * (`policy.denied`, whether answered 403 or 404) and refused client certificates. A request for an
 * order that does not exist is not a denial and is not recorded. Never throws.
 */
export function createRefusalAuditor(audit: AuditBus) {
  return function auditRefusal(
    request: FastifyRequest,
    reason: string,
    extra: AuditDetails = {},
  ): void {
    const token = request.auth
    const params = request.params as { id?: unknown } | undefined
    const details: Record<string, string | number | boolean | null> = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      ...extra,
    }
    if (typeof params?.id === 'string') details.orderId = params.id
    try {
      audit.emit({
        type: 'access.denied',
        component: 'api',
        outcome: 'denied',
        requestId: request.id,
        reason,
        details,
        ...(token?.tokenId === undefined ? {} : { tokenId: token.tokenId }),
        ...(token?.subject === undefined ? {} : { subject: token.subject }),
        ...(token?.clientId === undefined ? {} : { clientId: token.clientId }),
      })
    } catch (error) {
      request.log.error({ err: error }, 'audit event could not be recorded')
    }
  }
}

export type RefusalAuditor = ReturnType<typeof createRefusalAuditor>
