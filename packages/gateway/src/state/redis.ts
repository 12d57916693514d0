import { randomUUID } from 'node:crypto'
import { type RedisOptions as IoRedisOptions, Redis } from 'ioredis'
import pino from 'pino'
import type { Registry } from 'prom-client'
import { StateUnavailable } from '../errors.js'
import {
  type AlertLogger,
  createRedisHealth,
  type RedisHealth,
  type RedisStateAlert,
  type RedisStateComponent,
} from './redis-health.js'
import { createRedisPhantomCache } from './redis-phantom-cache.js'
import { createScriptRunner, RECORD_IN_WINDOW, TAKE_TOKEN } from './redis-scripts.js'
import { createEntrySealer } from './redis-sealing.js'
import type { GatewayState, Revocation } from './types.js'

export type { RedisStateAlert, RedisStateComponent } from './redis-health.js'

/** ioredis connection options (`replyMapping` is left out: its typing clashes with exactOptionalPropertyTypes). */
export type RedisOptions = Omit<IoRedisOptions, 'replyMapping'>

export interface RedisStateOptions {
  /** `redis://[:password@]host:port/db` (or `rediss://`); keep the password in the environment. */
  readonly url?: string
  /** ioredis options merged over the defaults (Sentinel: `sentinels` and `name`; TLS: `tls`). */
  readonly redis?: RedisOptions
  /**
   * Prefix of every key and of the revocation channel. Default `gatehouse:`. The authorization
   * server's Redis revocation bus and split-token store must use the same prefix.
   */
  readonly keyPrefix?: string
  /**
   * When Redis cannot be reached: `open` lets requests through unlimited (default: limits are a
   * fairness control, authentication still holds), `closed` answers 503.
   */
  readonly rateLimitFailMode?: 'open' | 'closed'
  /** Bound on every Redis command. Default 500 ms. */
  readonly commandTimeoutMs?: number
  /** How long start-up waits for Redis. Default 5000 ms. */
  readonly connectTimeoutMs?: number
  /** Per-instance copy of the phantom cache (see below). Default 100,000 entries. */
  readonly maxPhantomEntries?: number
  /**
   * 32 random bytes shared by every gateway instance (from a secret, e.g. base64 in the
   * environment). With it, phantom-cache entries — signed JWTs — are shared through Redis
   * encrypted (AES-256-GCM, bound to their key); without it nothing of them is written to Redis
   * and each instance keeps its own cache (revocation events still evict everywhere).
   */
  readonly phantomEntryKey?: Uint8Array
  /** How long an evicted token stays barred from the shared cache. Default 60 s. */
  readonly revocationTombstoneSeconds?: number
  readonly logger?: AlertLogger
  /** Registers `gatehouse_gateway_redis_up` and `gatehouse_gateway_redis_failures_total` here. */
  readonly registry?: Registry
  readonly onAlert?: (alert: RedisStateAlert) => void
  readonly now?: () => number
}

/** Sliding-window logs shared by every gateway instance, for the abuse detectors. */
export interface SharedSlidingWindows<T> {
  /** Records `value` for `key`; returns the values inside the window, oldest first. */
  record(key: string, value: T): Promise<readonly T[]>
  reset(key: string): Promise<void>
}

export interface RedisGatewayState extends GatewayState {
  /** Windows named `name` (one detector), shared by every instance through sorted sets. */
  createSlidingWindows<T>(
    name: string,
    options: { readonly windowSeconds: number; readonly maxEntriesPerKey: number },
  ): SharedSlidingWindows<T>
  readonly health: Pick<RedisHealth, 'isUp'>
}

const MAX_ID_LENGTH = 512

/**
 * Gateway state in Redis, for many gateway instances:
 *  - rate limits: one token bucket per key, updated atomically by a Lua script (EVALSHA) on
 *    Redis' clock, so N instances share one limit exactly;
 *  - phantom cache: a bounded local copy per instance (a warm hit costs no round trip) and, with
 *    `phantomEntryKey`, a shared level in Redis holding the entries encrypted (see
 *    `redis-phantom-cache.ts`). Revocations travel over Redis pub/sub and evict both levels at
 *    every instance, leaving a short tombstone so a racing introspection cannot re-insert the token;
 *  - split-token entries, written by the authorization server at issuance and deleted by the
 *    revocation of their token (the event's hash is the split entry's key);
 *  - sliding windows for the abuse detectors (sorted sets).
 *
 * Degrading safely when Redis is unreachable (commands fail fast: no offline queue, bounded
 * timeouts; ioredis reconnects forever with backoff, no restart needed):
 *  - phantom and split lookups fail closed: 503 problem+json (`StateUnavailable`), never a 401.
 *    While the revocation subscription is down even local hits are refused, because a revocation
 *    could be missed; when it comes back the local copies are dropped for the same reason;
 *  - rate limits follow `rateLimitFailMode`;
 *  - abuse windows pause (the failure is logged and counted).
 * Each lost connection raises an error log line, the `redis_up` gauge and the `onAlert` hook.
 */
export async function createRedisState(options: RedisStateOptions): Promise<RedisGatewayState> {
  const now = options.now ?? Date.now
  const prefix = options.keyPrefix ?? 'gatehouse:'
  const channel = `${prefix}revocations`
  const failMode = options.rateLimitFailMode ?? 'open'
  const logger = options.logger ?? pino({ name: 'gatehouse-gateway' })
  const health = createRedisHealth({
    logger,
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.onAlert === undefined ? {} : { onAlert: options.onAlert }),
  })
  const connectionOptions: RedisOptions = {
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // Fail fast while disconnected instead of queueing requests behind an outage.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    lazyConnect: true,
    ...options.redis,
  }
  const commands =
    options.url === undefined
      ? new Redis(connectionOptions)
      : new Redis(options.url, connectionOptions)
  // The subscriber resubscribes itself on `ready` (below), so it knows when it is listening again.
  const subscriber = commands.duplicate({ autoResubscribe: false })

  const listeners = new Set<(revocation: Revocation) => void>()

  function unavailable(component: RedisStateComponent, error: unknown): StateUnavailable {
    health.failure(component, 'closed', error)
    return new StateUnavailable({ cause: error, detail: `redis ${component} unavailable` })
  }
  const phantomCache = createRedisPhantomCache({
    redis: commands,
    prefix,
    sealer:
      options.phantomEntryKey === undefined
        ? undefined
        : createEntrySealer(options.phantomEntryKey),
    maxEntries: options.maxPhantomEntries ?? 100_000,
    tombstoneMs: (options.revocationTombstoneSeconds ?? 60) * 1000,
    listening: () => health.isUp('subscription'),
    unavailable: (error) => unavailable('phantom_cache', error),
    now,
  })

  // A deliberate close() is not an outage: no alert then.
  let closing = false
  const down = (connection: 'commands' | 'subscription', error?: unknown) => {
    if (!closing) health.down(connection, error)
  }
  commands.on('ready', () => health.up('commands'))
  commands.on('close', () => down('commands'))
  commands.on('error', (error: unknown) => down('commands', error))
  subscriber.on('close', () => down('subscription'))
  subscriber.on('error', (error: unknown) => down('subscription', error))
  subscriber.on('ready', function resubscribe() {
    subscriber.subscribe(channel).then(
      () => {
        // Revocations published while we were away are lost: forget every local copy.
        phantomCache.forgetLocalCopies()
        health.up('subscription')
      },
      (error: unknown) => down('subscription', error),
    )
  })
  subscriber.on('message', function onRevocationMessage(from: string, message: string) {
    if (from !== channel) return
    const revocation = parseRevocation(message)
    if (revocation === undefined) return
    for (const listener of listeners) listener(revocation)
  })

  await Promise.all([commands.connect(), subscriber.connect()]).catch(async (error: unknown) => {
    commands.disconnect()
    subscriber.disconnect()
    throw new Error(
      `cannot reach Redis for the gateway state: ${error instanceof Error ? error.message : String(error)}`,
    )
  })
  await waitFor(() => health.isUp('subscription'), options.connectTimeoutMs ?? 5_000).catch(
    (error: unknown) => {
      commands.disconnect()
      subscriber.disconnect()
      throw error
    },
  )

  const takeToken = createScriptRunner(commands, TAKE_TOKEN)
  const recordInWindow = createScriptRunner(commands, RECORD_IN_WINDOW)
  const keys = {
    bucket: (key: string) => `${prefix}rl:${key}`,
    split: (hash: string) => `${prefix}split:${hash}`,
    window: (name: string, key: string) => `${prefix}abuse:${name}:${key}`,
  }

  return {
    rateLimits: {
      async take(key, capacity, windowSeconds) {
        let result: unknown
        try {
          result = await takeToken([keys.bucket(key)], [capacity, windowSeconds * 1000])
        } catch (error) {
          if (failMode === 'closed') throw unavailable('rate_limits', error)
          health.failure('rate_limits', 'open', error)
          return { allowed: true, remaining: capacity, resetSeconds: 0, retryAfterSeconds: 0 }
        }
        const [allowed, left] = result as [number, string]
        const tokens = Number(left)
        const perMs = capacity / (windowSeconds * 1000)
        return {
          allowed: allowed === 1,
          remaining: Math.floor(tokens),
          resetSeconds: Math.ceil((capacity - tokens) / perMs / 1000),
          retryAfterSeconds:
            allowed === 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
        }
      },
    },
    phantomCache,
    revocations: {
      async publish(revocation) {
        try {
          await commands.publish(channel, JSON.stringify(revocation))
        } catch (error) {
          // Never rejects (callers fire and forget): evict here at least; the other instances
          // drop their local copies when their own subscription comes back.
          health.failure('revocations', 'closed', error)
          for (const listener of listeners) listener(revocation)
        }
      },
      subscribe(listener) {
        listeners.add(listener)
        return () => {
          listeners.delete(listener)
        }
      },
    },
    splitTokens: {
      async get(signatureHash) {
        try {
          return (await commands.get(keys.split(signatureHash))) ?? undefined
        } catch (error) {
          throw unavailable('split_tokens', error)
        }
      },
      async put(signatureHash, headerAndPayload, ttlSeconds) {
        if (ttlSeconds <= 0) return
        try {
          await commands.set(keys.split(signatureHash), headerAndPayload, 'PX', ttlSeconds * 1000)
        } catch (error) {
          throw unavailable('split_tokens', error)
        }
      },
    },
    createSlidingWindows<T>(
      name: string,
      settings: { readonly windowSeconds: number; readonly maxEntriesPerKey: number },
    ): SharedSlidingWindows<T> {
      return {
        async record(key, value) {
          let members: unknown
          try {
            members = await recordInWindow(
              [keys.window(name, key)],
              [
                settings.windowSeconds * 1000,
                settings.maxEntriesPerKey,
                `${randomUUID()}|${JSON.stringify(value)}`,
              ],
            )
          } catch (error) {
            throw unavailable('abuse_windows', error)
          }
          return (members as string[]).map(
            (member) => JSON.parse(member.slice(member.indexOf('|') + 1)) as T,
          )
        },
        async reset(key) {
          try {
            await commands.del(keys.window(name, key))
          } catch (error) {
            throw unavailable('abuse_windows', error)
          }
        },
      }
    },
    health: { isUp: health.isUp },
    async close() {
      closing = true
      listeners.clear()
      await Promise.all(
        [commands, subscriber].map((connection) =>
          connection.status === 'ready'
            ? connection.quit().then(
                () => undefined,
                () => connection.disconnect(),
              )
            : connection.disconnect(),
        ),
      )
    },
  }
}

/** Revocation messages come from the authorization server: take only well-formed identifiers. */
function parseRevocation(message: string): Revocation | undefined {
  let value: unknown
  try {
    value = JSON.parse(message)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  const id = (field: unknown) =>
    typeof field === 'string' && field.length > 0 && field.length <= MAX_ID_LENGTH
      ? field
      : undefined
  const tokenHash = id(record.tokenHash)
  const tokenId = id(record.tokenId) ?? id(record.jti)
  if (tokenHash === undefined && tokenId === undefined) return undefined
  return {
    ...(tokenHash === undefined ? {} : { tokenHash }),
    ...(tokenId === undefined ? {} : { tokenId }),
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the Redis subscription')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
