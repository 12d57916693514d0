import type { AuditBus } from '@gatehouse/audit'
import type { Logger } from 'pino'
import type { GatewayConfigParsed } from '../config/schema.js'
import type { GatewayMetrics } from '../metrics.js'
import type { TemporaryBlocks } from '../pipeline/block-list.js'
import type { ObservedRequest, RequestListener } from '../pipeline/observe.js'
import { createSlidingWindows } from './sliding-window.js'

export interface AbuseDeps {
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly audit: AuditBus
  readonly blocks: TemporaryBlocks
  readonly now?: () => number
}

type Detector =
  | 'enumeration'
  | 'clients_per_ip'
  | 'clients_per_subject'
  | 'unexpected_headers'
  | 'unexpected_params'

// Headers any well-behaved client may send; the unexpected-headers detector adds the configured ones.
const ORDINARY_HEADERS = [
  'host',
  'user-agent',
  'accept',
  'accept-encoding',
  'accept-language',
  'authorization',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'cache-control',
  'pragma',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'origin',
  'referer',
  'cookie',
  'te',
  'dnt',
  'x-request-id',
  'x-forwarded-for',
  'forwarded',
  'x-forwarded-proto',
  'x-forwarded-host',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'priority',
  'expect',
  'range',
  'x-csrf-token',
]

/**
 * The abuse detectors, fed every finished request by `observe`, each on a sliding window:
 *  - `enumeration`: one client walking through many distinct objects of a route, mostly answered
 *    403/404 (BOLA probing, OWASP API1);
 *  - `clientsPerIp` / `clientsPerSubject`: many client ids from one address or one user
 *    (rotating credentials to dodge rate limits);
 *  - `unexpectedHeaders`: requests carrying headers outside the allow-list (probing for
 *    debug or override switches such as `X-Original-URL`);
 *  - `unexpectedParams`: requests with query parameters outside the route's `queryParams` list
 *    (probing for mass-assignment or debug switches such as `?admin=true`).
 * Each raises an alert — a warn log line, a metric and an `abuse.detected` audit event — and, when
 * `blockSeconds` is set, a temporary block of the offender.
 */
export function createAbuseDetectors(
  settings: GatewayConfigParsed['abuse'],
  deps: AbuseDeps,
): RequestListener[] {
  const now = deps.now ?? Date.now
  const listeners: RequestListener[] = []

  function alert(
    detector: Detector,
    request: ObservedRequest,
    offender: { kind: 'ip' | 'client' | 'subject'; value: string },
    blockSeconds: number,
    details: Record<string, number>,
  ): void {
    deps.metrics.abuseAlerts.inc({ detector })
    deps.logger.warn(
      { detector, requestId: request.requestId, offender: offender.kind, ...details },
      'abuse detected',
    )
    const { outcome } = request
    deps.audit.emit({
      type: 'abuse.detected',
      component: 'gateway',
      outcome: 'denied',
      reason: `abuse.${detector}`,
      requestId: request.requestId,
      ip: request.clientIp,
      ...(outcome.clientId === undefined ? {} : { clientId: outcome.clientId }),
      ...(outcome.subject === undefined ? {} : { subject: outcome.subject }),
      ...(outcome.tokenId === undefined ? {} : { tokenId: outcome.tokenId }),
      details: { ...details, blockSeconds, route: outcome.routeId ?? 'none' },
    })
    if (blockSeconds > 0) deps.blocks.block(offender.kind, offender.value, blockSeconds)
  }

  function offenderOf(request: ObservedRequest): {
    kind: 'ip' | 'client' | 'subject'
    value: string
  } {
    const { outcome } = request
    if (outcome.clientId !== undefined) return { kind: 'client', value: outcome.clientId }
    if (outcome.subject !== undefined) return { kind: 'subject', value: outcome.subject }
    return { kind: 'ip', value: request.clientIp }
  }

  const enumeration = settings.enumeration
  if (enumeration?.enabled) {
    const windows = createSlidingWindows({
      windowSeconds: enumeration.windowSeconds,
      maxKeys: 50_000,
      maxEntriesPerKey: enumeration.threshold * 4,
      now,
    })
    listeners.push(function detectEnumeration(request) {
      const { outcome } = request
      if (outcome.routeId === undefined || outcome.path === undefined) return
      const offender = offenderOf(request)
      const key = `${offender.kind}:${offender.value}|${outcome.routeId}`
      const refused = outcome.status === 403 || outcome.status === 404
      const window = windows.record(key, outcome.path, refused)
      if (window.distinct >= enumeration.threshold && window.marked * 2 > window.entries) {
        windows.reset(key)
        alert('enumeration', request, offender, enumeration.blockSeconds, {
          distinctObjects: window.distinct,
          refusals: window.marked,
        })
      }
    })
  }

  // Many client ids behind one address or one user: rotating credentials to dodge limits.
  const perClientWindows = [
    ['clients_per_ip', settings.clientsPerIp, (request: ObservedRequest) => request.clientIp, 'ip'],
    [
      'clients_per_subject',
      settings.clientsPerSubject,
      (request: ObservedRequest) => request.outcome.subject,
      'subject',
    ],
  ] as const
  for (const [name, detector, keyOf, kind] of perClientWindows) {
    if (detector?.enabled !== true) continue
    const windows = createSlidingWindows({
      windowSeconds: detector.windowSeconds,
      maxKeys: 50_000,
      maxEntriesPerKey: detector.threshold * 4,
      now,
    })
    listeners.push(function detectManyClients(request) {
      const clientId = request.outcome.clientId
      const key = keyOf(request)
      if (clientId === undefined || key === undefined) return
      const clients = windows.record(key, clientId).distinct
      if (clients >= detector.threshold) {
        windows.reset(key)
        alert(name, request, { kind, value: key }, detector.blockSeconds, {
          distinctClients: clients,
        })
      }
    })
  }

  const unexpected = settings.unexpectedHeaders
  if (unexpected?.enabled) {
    const allowed = new Set([
      ...ORDINARY_HEADERS,
      ...unexpected.allowHeaders.map((name) => name.toLowerCase()),
    ])
    const windows = createSlidingWindows({
      windowSeconds: unexpected.windowSeconds,
      maxKeys: 50_000,
      maxEntriesPerKey: unexpected.threshold * 2,
      now,
    })
    listeners.push(function detectUnexpectedHeaders(request) {
      if (!request.headerNames.some((name) => !allowed.has(name))) return
      const offender = offenderOf(request)
      const key = `${offender.kind}:${offender.value}`
      const hits = windows.record(key, '').entries
      if (hits >= unexpected.threshold) {
        windows.reset(key)
        alert('unexpected_headers', request, offender, unexpected.blockSeconds, { requests: hits })
      }
    })
  }
  const params = settings.unexpectedParams
  if (params?.enabled) {
    const windows = createSlidingWindows({
      windowSeconds: params.windowSeconds,
      maxKeys: 50_000,
      maxEntriesPerKey: params.threshold * 2,
      now,
    })
    listeners.push(function detectUnexpectedParams(request) {
      if (request.outcome.unexpectedParams !== true) return
      const offender = offenderOf(request)
      const key = `${offender.kind}:${offender.value}`
      const hits = windows.record(key, '').entries
      if (hits >= params.threshold) {
        windows.reset(key)
        alert('unexpected_params', request, offender, params.blockSeconds, { requests: hits })
      }
    })
  }
  return listeners
}
