import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { RequestMetrics } from './request-metrics.js'

/** The gateway's Prometheus metrics, on their own registry (served on the admin port). */
export interface GatewayMetrics {
  readonly registry: Registry
  readonly requests: Counter<'route' | 'status' | 'client'>
  /**
   * Counts one answered request in `requests` and in the latency histogram
   * (`gatehouse_gateway_request_duration_seconds{route}`): the per-request hot path.
   */
  recordRequest(route: string, status: number, client: string, seconds: number): void
  readonly authRejections: Counter<'route' | 'reason'>
  readonly rateLimited: Counter<'route' | 'policy'>
  readonly blocked: Counter<'reason'>
  readonly cacheLookups: Counter<'cache' | 'result'>
  readonly introspectionFailures: Counter<'issuer'>
  readonly abuseAlerts: Counter<'detector'>
  readonly phantomCacheEntries: Gauge
}

export function createGatewayMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: 'gatehouse_gateway_' })
  const registers = [registry]
  const requests = new Counter({
    name: 'gatehouse_gateway_requests_total',
    help: 'Requests answered, by route, status and authenticated client id',
    labelNames: ['route', 'status', 'client'],
    registers,
    // Called on scrape, long after `recorder` below exists.
    collect() {
      recorder.flush()
    },
  })
  const recorder = new RequestMetrics(requests, {
    name: 'gatehouse_gateway_request_duration_seconds',
    help: 'Time from request to response headers (including the upstream), by route',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  })
  return {
    registry,
    requests,
    recordRequest: (route, status, client, seconds) =>
      recorder.record(route, status, client, seconds),
    authRejections: new Counter({
      name: 'gatehouse_gateway_auth_rejections_total',
      help: 'Requests refused by authentication or authorization, by route and reason code',
      labelNames: ['route', 'reason'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'gatehouse_gateway_rate_limited_total',
      help: 'Requests refused by a rate limit, by route and policy',
      labelNames: ['route', 'policy'],
      registers,
    }),
    blocked: new Counter({
      name: 'gatehouse_gateway_blocked_total',
      help: 'Requests refused by the block list, by reason',
      labelNames: ['reason'],
      registers,
    }),
    cacheLookups: new Counter({
      name: 'gatehouse_gateway_cache_lookups_total',
      help: 'Token cache lookups by cache (phantom, split) and result (hit, miss, negative_hit)',
      labelNames: ['cache', 'result'],
      registers,
    }),
    introspectionFailures: new Counter({
      name: 'gatehouse_gateway_introspection_failures_total',
      help: 'Introspection calls that failed (authorization server unreachable or 5xx)',
      labelNames: ['issuer'],
      registers,
    }),
    abuseAlerts: new Counter({
      name: 'gatehouse_gateway_abuse_alerts_total',
      help: 'Abuse detector alerts, by detector',
      labelNames: ['detector'],
      registers,
    }),
    phantomCacheEntries: new Gauge({
      name: 'gatehouse_gateway_phantom_cache_entries',
      help: 'Introspected JWTs held in the phantom-token cache',
      registers,
    }),
  }
}
