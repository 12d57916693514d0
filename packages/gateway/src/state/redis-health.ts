import { Counter, Gauge, type Registry } from 'prom-client'

/** What of the Redis state failed: each part has its own fail mode (see `redis.ts`). */
export type RedisStateComponent =
  | 'rate_limits'
  | 'phantom_cache'
  | 'split_tokens'
  | 'revocations'
  | 'abuse_windows'

export type RedisConnectionName = 'commands' | 'subscription'

export interface RedisStateAlert {
  readonly kind: 'unavailable' | 'recovered'
  readonly connection: RedisConnectionName
}

/** The log methods the alerts need (a pino logger fits). */
export interface AlertLogger {
  error(details: object, message: string): void
  warn(details: object, message: string): void
  info(details: object, message: string): void
}

export interface RedisHealth {
  isUp(connection: RedisConnectionName): boolean
  /** A connection went down: one alert line per transition, not one per request. */
  down(connection: RedisConnectionName, error?: unknown): void
  up(connection: RedisConnectionName): void
  /** One failed state operation, and what the gateway did about it. */
  failure(component: RedisStateComponent, failMode: 'open' | 'closed', error: unknown): void
}

/**
 * Health of the Redis state: the `gatehouse_gateway_redis_up{connection}` gauge, the
 * `gatehouse_gateway_redis_failures_total{component,fail_mode}` counter, an error log line when a
 * connection is lost (and an info line when it is back), and the `onAlert` hook for paging.
 */
export function createRedisHealth(options: {
  readonly logger: AlertLogger
  readonly registry?: Registry
  readonly onAlert?: (alert: RedisStateAlert) => void
}): RedisHealth {
  const registers = options.registry === undefined ? [] : [options.registry]
  const upGauge = new Gauge({
    name: 'gatehouse_gateway_redis_up',
    help: 'Whether the gateway reaches Redis (1) or not (0), by connection',
    labelNames: ['connection'],
    registers,
  })
  const failures = new Counter({
    name: 'gatehouse_gateway_redis_failures_total',
    help: 'State operations that failed because Redis was unreachable, by component and fail mode',
    labelNames: ['component', 'fail_mode'],
    registers,
  })
  const state: Record<RedisConnectionName, boolean> = { commands: false, subscription: false }
  upGauge.set({ connection: 'commands' }, 0)
  upGauge.set({ connection: 'subscription' }, 0)
  const errorText = (error: unknown) => (error instanceof Error ? error.message : undefined)

  return {
    isUp: (connection) => state[connection],
    down(connection, error) {
      if (!state[connection]) return
      state[connection] = false
      upGauge.set({ connection }, 0)
      options.logger.error(
        { alert: 'redis_unavailable', connection, error: errorText(error) },
        connection === 'subscription'
          ? 'redis revocation subscription lost: phantom routes answer 503 until it is back'
          : 'redis unreachable: phantom and split routes answer 503, rate limits apply their fail mode',
      )
      options.onAlert?.({ kind: 'unavailable', connection })
    },
    up(connection) {
      if (state[connection]) return
      state[connection] = true
      upGauge.set({ connection }, 1)
      options.logger.info({ alert: 'redis_recovered', connection }, 'redis state reachable')
      options.onAlert?.({ kind: 'recovered', connection })
    },
    failure(component, failMode, error) {
      failures.inc({ component, fail_mode: failMode })
      if (component === 'abuse_windows' || component === 'revocations') {
        options.logger.warn(
          { alert: 'redis_operation_failed', component, error: errorText(error) },
          'redis state operation failed',
        )
      }
    },
  }
}
