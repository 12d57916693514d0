import type { AuditBus, AuditEventType } from '@gatehouse/audit'
import type { Logger } from 'pino'
import type { GatewayMetrics } from '../metrics.js'
import { createAccessLog } from './access-log.js'
import type { Outcome } from './types.js'

export interface ObservedRequest {
  readonly requestId: string
  readonly method: string
  readonly clientIp: string
  /** Lower-case header names as received (never values), for the unexpected-headers detector. */
  readonly headerNames: readonly string[]
  readonly outcome: Outcome
  readonly durationMs: number
}

export type Observe = (request: ObservedRequest) => void

/** Listeners that see every finished request (the abuse detectors). */
export type RequestListener = (request: ObservedRequest) => void

/**
 * Writes exactly one access-log line per request (from the runner's `finally`), counts it, and
 * turns security decisions into audit events joined by `tokenId` (jti) and `requestId`. The log
 * line is built from an allow-list of fields: no headers, no query string, no token — at most the
 * first 8 hex chars of the token's SHA-256.
 */
export function createObserver(deps: {
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly audit: AuditBus
  readonly listeners?: readonly RequestListener[]
}): Observe {
  const { metrics, audit } = deps
  const listeners = deps.listeners ?? []
  const accessLog = createAccessLog(deps.logger)
  return function observe(request) {
    const { outcome } = request
    const route = outcome.routeId ?? 'none'
    accessLog({
      requestId: request.requestId,
      routeId: outcome.routeId,
      method: request.method,
      path: outcome.path,
      status: outcome.status,
      reason: outcome.reason,
      clientIp: request.clientIp,
      clientId: outcome.clientId,
      subject: outcome.subject,
      tokenHash: outcome.tokenHash,
      durationMs: round(request.durationMs),
      upstreamMs: outcome.upstreamMs === undefined ? undefined : round(outcome.upstreamMs),
    })
    metrics.recordRequest(route, outcome.status, outcome.clientId ?? '', request.durationMs / 1000)
    const type = auditTypeOf(outcome)
    if (type !== undefined) {
      if (type === 'rate.limited') metrics.rateLimited.inc({ route, policy: outcome.policy ?? '' })
      else if (outcome.reason.startsWith('block.')) metrics.blocked.inc({ reason: outcome.reason })
      else metrics.authRejections.inc({ route, reason: outcome.reason })
      audit.emit({
        type,
        component: 'gateway',
        outcome: 'denied',
        requestId: request.requestId,
        reason: outcome.reason,
        ip: request.clientIp,
        ...(outcome.tokenId === undefined ? {} : { tokenId: outcome.tokenId }),
        ...(outcome.clientId === undefined ? {} : { clientId: outcome.clientId }),
        ...(outcome.subject === undefined ? {} : { subject: outcome.subject }),
        details: {
          route,
          status: outcome.status,
          ...(outcome.tokenHash === undefined ? {} : { tokenHash: outcome.tokenHash }),
          ...(outcome.policy === undefined ? {} : { policy: outcome.policy }),
        },
      })
    }
    for (const listener of listeners) listener(request)
  }
}

function auditTypeOf(outcome: Outcome): AuditEventType | undefined {
  if (outcome.status === 429) return 'rate.limited'
  if (outcome.reason.startsWith('block.')) return 'client.blocked'
  if (outcome.status === 401 || outcome.status === 403) return 'access.denied'
  return undefined
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
