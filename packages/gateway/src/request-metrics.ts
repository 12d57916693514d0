import type { Counter, Registry } from 'prom-client'

/**
 * The two metrics every request updates — requests by route, status and client, and latency by
 * route — counted on the hot path in plain cells (nested maps, then numbers), and handed to
 * prom-client when the registry is scraped. prom-client's own `inc(labels)` / `observe(labels, v)`
 * validate and hash the label object on every call; measured side by side with the minimal
 * proxy, those two calls took about 9% of the gateway's CPU per request. The exposition stays
 * prom-client's: the request counter is its Counter (flushed from `collect()`), and the latency
 * histogram implements the registry's metric contract (`get()` in prom-client's value shape), so
 * text format, OpenMetrics and cluster aggregation are unchanged.
 */
export class RequestMetrics {
  readonly #requests: Counter<'route' | 'status' | 'client'>
  readonly #counts = new Map<string, Map<number, Map<string, CountCell>>>()
  readonly #latency: RouteLatencyHistogram

  constructor(
    requests: Counter<'route' | 'status' | 'client'>,
    latency: { name: string; help: string; buckets: readonly number[]; registry: Registry },
  ) {
    this.#requests = requests
    this.#latency = new RouteLatencyHistogram(latency.name, latency.help, latency.buckets)
    // The registry's metric contract: name, help, type, aggregator, get(), reset().
    latency.registry.registerMetric(
      this.#latency as unknown as Parameters<Registry['registerMetric']>[0],
    )
  }

  record(route: string, status: number, client: string, seconds: number): void {
    let byStatus = this.#counts.get(route)
    if (byStatus === undefined) {
      byStatus = new Map()
      this.#counts.set(route, byStatus)
    }
    let byClient = byStatus.get(status)
    if (byClient === undefined) {
      byClient = new Map()
      byStatus.set(status, byClient)
    }
    const cell = byClient.get(client)
    if (cell === undefined) byClient.set(client, { labels: { route, status, client }, pending: 1 })
    else cell.pending++
    this.#latency.observe(route, seconds)
  }

  /** Adds what was counted since the last scrape to the prom-client counter. */
  flush(): void {
    for (const byStatus of this.#counts.values()) {
      for (const byClient of byStatus.values()) {
        for (const cell of byClient.values()) {
          if (cell.pending === 0) continue
          this.#requests.inc(cell.labels, cell.pending)
          cell.pending = 0
        }
      }
    }
  }
}

interface CountCell {
  readonly labels: { route: string; status: number; client: string }
  pending: number
}

interface LatencyCell {
  /** Per bucket, not cumulative; one more for +Inf. */
  readonly counts: Float64Array
  sum: number
  count: number
}

/** A histogram with one label, `route`, in prom-client's value shape. */
class RouteLatencyHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #routes = new Map<string, LatencyCell>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    if (buckets.some((bound, index) => index > 0 && bound <= (buckets[index - 1] ?? 0))) {
      throw new TypeError('histogram buckets must increase')
    }
  }

  observe(route: string, value: number): void {
    let cell = this.#routes.get(route)
    if (cell === undefined) {
      cell = { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }
      this.#routes.set(route, cell)
    }
    let bucket = 0
    while (bucket < this.buckets.length && value > (this.buckets[bucket] as number)) bucket++
    cell.counts[bucket] = (cell.counts[bucket] as number) + 1
    cell.sum += value
    cell.count++
  }

  async get() {
    const values: { value: number; metricName: string; labels: Record<string, string | number> }[] =
      []
    for (const [route, cell] of this.#routes) {
      let cumulative = 0
      this.buckets.forEach((le, index) => {
        cumulative += cell.counts[index] as number
        values.push({ value: cumulative, metricName: `${this.name}_bucket`, labels: { le, route } })
      })
      values.push({
        value: cell.count,
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', route },
      })
      values.push({ value: cell.sum, metricName: `${this.name}_sum`, labels: { route } })
      values.push({ value: cell.count, metricName: `${this.name}_count`, labels: { route } })
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    }
  }

  reset(): void {
    this.#routes.clear()
  }
}
