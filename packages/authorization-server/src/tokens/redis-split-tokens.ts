import { Redis } from 'ioredis'
import type { RedisConnectionOptions } from '../events/redis-revocation-bus.js'
import type { SplitTokenStore } from './split-tokens.js'

export interface RedisSplitTokenStoreOptions {
  /** `redis://[:password@]host:port/db`; keep the password in the environment. */
  readonly url?: string
  readonly redis?: RedisConnectionOptions
  /** Key prefix; entries are `<prefix>split:<signature hash>`. Default `gatehouse:`, as the gateway. */
  readonly keyPrefix?: string
  /** Bound on each write. Default 1000 ms. */
  readonly commandTimeoutMs?: number
}

export interface RedisSplitTokenStore extends SplitTokenStore {
  close(): Promise<void>
}

/**
 * Split-token entries in Redis, written at issuance and read by every gateway instance (the
 * gateway's Redis state reads the same keys). A write that fails makes the issuance fail: a split
 * token whose header and payload no gateway can find would be useless to the client.
 */
export async function createRedisSplitTokenStore(
  options: RedisSplitTokenStoreOptions,
): Promise<RedisSplitTokenStore> {
  const prefix = `${options.keyPrefix ?? 'gatehouse:'}split:`
  const connectionOptions: RedisConnectionOptions = {
    lazyConnect: true,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    ...options.redis,
  }
  const redis =
    options.url === undefined
      ? new Redis(connectionOptions)
      : new Redis(options.url, connectionOptions)
  redis.on('error', () => undefined)
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    throw new Error(
      `cannot reach Redis for split tokens: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
  return {
    async put(signatureHash, headerAndPayload, ttlSeconds) {
      if (ttlSeconds <= 0) return
      await redis.set(prefix + signatureHash, headerAndPayload, 'PX', Math.ceil(ttlSeconds * 1000))
    },
    async get(signatureHash) {
      return (await redis.get(prefix + signatureHash)) ?? undefined
    },
    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect())
      else redis.disconnect()
    },
  }
}
