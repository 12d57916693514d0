import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createGatewayMetrics } from './metrics.js'
import { RequestMetrics } from './request-metrics.js'

const samples: [string, number, string, number][] = [
  ['orders', 200, 'web-app', 0.0004],
  ['orders', 200, 'web-app', 0.003],
  ['orders', 403, 'web-app', 0.001],
  ['orders', 200, 'mobile', 0.02],
  ['public', 404, '', 12],
  ['orders', 200, 'web-app', 0.0025],
]

/** prom-client's own histogram fed the same samples: the exposition must not differ. */
async function promClientHistogram(): Promise<string> {
  const registry = new Registry()
  const histogram = new Histogram({
    name: 'gatehouse_gateway_request_duration_seconds',
    help: 'Time from request to response headers (including the upstream), by route',
    labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  for (const [route, , , seconds] of samples) histogram.observe({ route }, seconds)
  return registry.metrics()
}

function recorded() {
  const metrics = createGatewayMetrics({ defaultMetrics: false })
  for (const [route, status, client, seconds] of samples)
    metrics.recordRequest(route, status, client, seconds)
  return metrics
}

const section = (text: string, name: string) =>
  text
    .split('\n')
    .filter((line) => line.includes(name))
    .join('\n')

describe('recordRequest', () => {
  it('exposes the latency histogram exactly as prom-client would', async () => {
    const ours = await recorded().registry.metrics()
    const name = 'gatehouse_gateway_request_duration_seconds'
    expect(section(ours, name)).toBe(section(await promClientHistogram(), name))
    expect(ours).toContain(`${name}_bucket{le="0.0025",route="orders"} 3`)
    expect(ours).toContain(`${name}_count{route="public"} 1`)
  })

  it('counts requests by route, status and client, and keeps counting across scrapes', async () => {
    const metrics = recorded()
    const first = await metrics.registry.metrics()
    expect(first).toContain(
      'gatehouse_gateway_requests_total{route="orders",status="200",client="web-app"} 3',
    )
    expect(first).toContain(
      'gatehouse_gateway_requests_total{route="public",status="404",client=""} 1',
    )
    metrics.recordRequest('orders', 200, 'web-app', 0.001)
    metrics.requests.inc({ route: 'none', status: 400, client: '' })
    const second = await metrics.registry.metrics()
    expect(second).toContain(
      'gatehouse_gateway_requests_total{route="orders",status="200",client="web-app"} 4',
    )
    expect(second).toContain(
      'gatehouse_gateway_requests_total{route="none",status="400",client=""} 1',
    )
    expect(second).toContain('gatehouse_gateway_request_duration_seconds_count{route="orders"} 6')
  })

  it('adds up across cluster workers', async () => {
    const one = await recorded().registry.getMetricsAsJSON()
    const two = await recorded().registry.getMetricsAsJSON()
    const text = await AggregatorRegistry.aggregate([one, two]).metrics()
    expect(text).toContain(
      'gatehouse_gateway_requests_total{route="orders",status="200",client="web-app"} 6',
    )
    expect(text).toContain(
      'gatehouse_gateway_request_duration_seconds_bucket{le="+Inf",route="orders"} 10',
    )
  })

  it('forgets the histogram on a registry reset', async () => {
    const metrics = recorded()
    metrics.registry.resetMetrics()
    expect(await metrics.registry.metrics()).not.toContain('request_duration_seconds_count')
  })

  it.each([[[0.1, 0.1]], [[1, 0.5]]])(
    'refuses histogram buckets that do not increase: %j',
    (buckets) => {
      const registry = new Registry()
      const requests = new Counter({
        name: 'r_total',
        help: 'r',
        labelNames: ['route', 'status', 'client'],
        registers: [registry],
      })
      expect(
        () => new RequestMetrics(requests, { name: 'd_seconds', help: 'd', buckets, registry }),
      ).toThrow(/buckets must increase/)
    },
  )
})
