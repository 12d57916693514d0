import { randomUUID } from 'node:crypto'
import { type RedisOptions as IoRedisOptions, Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
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
import {
  createScriptRunner,
  EVICT_PHANTOM,
  RECORD_IN_WINDOW,
  SET_PHANTOM,
  TAKE_TOKEN,
} from './redis-scripts.js'
import type { GatewayState, PhantomCache, PhantomEntry, Revocation } from './types.js'

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

interface StoredPhantom {
  /** The entry, or `inactive` for the short negative entry. */
  readonly v: PhantomEntry | 'inactive'
  /** Epoch ms after which the entry must not be used. */
  readonly until: number
}

const MAX_ID_LENGTH = 512

/**
 * Gateway state in Redis, for many gateway instances:
 *  - rate limits: one token bucket per key, updated atomically by a Lua script (EVALSHA) on
 *    Redis' clock, so N instances share one limit exactly;
 *  - phantom cache: two levels. The shared level is in Redis (one introspection per token for
 *    the whole fleet); each instance keeps a bounded local copy so a warm hit costs no round
 *    trip. Revocations travel over Redis pub/sub and evict both levels at every instance, and
 *    leave a short tombstone so a racing introspection cannot re-insert the token;
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
  const tombstoneMs = (options.revocationTombstoneSeconds ?? 60) * 1000
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

  const localPhantom = new LRUCache<string, PhantomEntry | 'inactive'>({
    max: options.maxPhantomEntries ?? 100_000,
    ttlResolution: 0,
    perf: { now },
  })
  const localByTokenId = new Map<string, string>()
  const listeners = new Set<(revocation: Revocation) => void>()

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
        localPhantom.clear()
        localByTokenId.clear()
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
  const setPhantom = createScriptRunner(commands, SET_PHANTOM)
  const evictPhantom = createScriptRunner(commands, EVICT_PHANTOM)
  const recordInWindow = createScriptRunner(commands, RECORD_IN_WINDOW)
  const keys = {
    bucket: (key: string) => `${prefix}rl:${key}`,
    phantom: `${prefix}phantom:`,
    phantomTombstone: `${prefix}phantom-revoked:`,
    jtiIndex: `${prefix}phantom-jti:`,
    jtiTombstone: `${prefix}phantom-jti-revoked:`,
    split: (hash: string) => `${prefix}split:${hash}`,
    window: (name: string, key: string) => `${prefix}abuse:${name}:${key}`,
  }

  function unavailable(component: RedisStateComponent, error: unknown): StateUnavailable {
    health.failure(component, 'closed', error)
    return new StateUnavailable({ cause: error, detail: `redis ${component} unavailable` })
  }

  const phantomCache: PhantomCache = {
    async get(tokenHash) {
      if (!health.isUp('subscription'))
        throw unavailable('phantom_cache', new Error('revocation subscription down'))
      const local = localPhantom.get(tokenHash)
      if (local !== undefined) return local
      let raw: string | null
      try {
        raw = await commands.get(keys.phantom + tokenHash)
      } catch (error) {
        throw unavailable('phantom_cache', error)
      }
      const stored = raw === null ? undefined : parseStoredPhantom(raw)
      if (stored === undefined || stored.until <= now()) return undefined
      remember(tokenHash, stored.v, stored.until - now())
      return stored.v
    },
    async set(tokenHash, entry, ttlSeconds) {
      if (ttlSeconds <= 0) return
      const ttlMs = ttlSeconds * 1000
      const stored: StoredPhantom = { v: entry, until: now() + ttlMs }
      const jti = entry === 'inactive' ? undefined : entry.tokenId
      let written: unknown
      try {
        written = await setPhantom(
          [
            keys.phantom + tokenHash,
            keys.phantomTombstone + tokenHash,
            keys.jtiTombstone + (jti ?? ''),
            keys.jtiIndex + (jti ?? ''),
          ],
          [JSON.stringify(stored), ttlMs, jti === undefined ? '0' : '1', tokenHash],
        )
      } catch (error) {
        throw unavailable('phantom_cache', error)
      }
      if (written === 1) remember(tokenHash, entry, ttlMs)
    },
    async evict(revocation) {
      forgetLocally(revocation)
      try {
        await evictPhantom(
          [keys.phantom, keys.phantomTombstone, keys.jtiIndex, keys.jtiTombstone, keys.split('')],
          [revocation.tokenHash ?? '', revocation.tokenId ?? '', tombstoneMs],
        )
      } catch (error) {
        throw unavailable('phantom_cache', error)
      }
    },
    get size() {
      return localPhantom.size
    },
  }

  function remember(tokenHash: string, entry: PhantomEntry | 'inactive', ttlMs: number): void {
    if (ttlMs <= 0) return
    localPhantom.set(tokenHash, entry, { ttl: ttlMs })
    if (entry === 'inactive' || entry.tokenId === undefined) return
    localByTokenId.set(entry.tokenId, tokenHash)
    // The side index stays bounded by the local cache: drop names whose entry is gone.
    if (localByTokenId.size > localPhantom.max * 2) {
      for (const [jti, hash] of localByTokenId)
        if (!localPhantom.has(hash)) localByTokenId.delete(jti)
    }
  }

  function forgetLocally(revocation: Revocation): void {
    if (revocation.tokenHash !== undefined) localPhantom.delete(revocation.tokenHash)
    if (revocation.tokenId === undefined) return
    const hash = localByTokenId.get(revocation.tokenId)
    if (hash !== undefined) localPhantom.delete(hash)
    localByTokenId.delete(revocation.tokenId)
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

function parseStoredPhantom(raw: string): StoredPhantom | undefined {
  try {
    const stored = JSON.parse(raw) as StoredPhantom
    return typeof stored.until === 'number' && stored.v !== undefined ? stored : undefined
  } catch {
    return undefined
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the Redis subscription')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
