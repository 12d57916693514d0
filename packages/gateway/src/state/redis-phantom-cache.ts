import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { StateUnavailable } from '../errors.js'
import { createScriptRunner, EVICT_PHANTOM, SET_PHANTOM } from './redis-scripts.js'
import type { EntrySealer } from './redis-sealing.js'
import type { PhantomCache, PhantomEntry, Revocation } from './types.js'

interface StoredPhantom {
  /** The entry, or `inactive` for the short negative entry. */
  readonly v: PhantomEntry | 'inactive'
  /** Epoch ms after which the entry must not be used. */
  readonly until: number
}

export interface RedisPhantomCache extends PhantomCache {
  /** Drops every local copy (after revocation events may have been missed). */
  forgetLocalCopies(): void
}

/**
 * The phantom cache in two levels: a bounded local LRU per instance (a warm hit costs no round
 * trip) in front of a shared level in Redis (one introspection per token for the whole fleet).
 * The shared level holds signed JWTs, so it is used only with a `sealer`: entries are encrypted
 * and bound to their key. Without one, nothing is written to Redis and each instance keeps its
 * own cache, still evicted by the revocation events.
 *
 * Every lookup fails closed (`StateUnavailable`, 503) while `listening()` is false: a revocation
 * could be missed, so not even a local copy may be trusted then.
 */
export function createRedisPhantomCache(options: {
  readonly redis: Redis
  readonly prefix: string
  readonly sealer: EntrySealer | undefined
  readonly maxEntries: number
  readonly tombstoneMs: number
  readonly listening: () => boolean
  readonly unavailable: (error: unknown) => StateUnavailable
  readonly now: () => number
}): RedisPhantomCache {
  const { redis, prefix, sealer, now, unavailable } = options
  const keys = {
    entry: `${prefix}phantom:`,
    tombstone: `${prefix}phantom-revoked:`,
    jtiIndex: `${prefix}phantom-jti:`,
    jtiTombstone: `${prefix}phantom-jti-revoked:`,
    split: `${prefix}split:`,
  }
  const setShared = createScriptRunner(redis, SET_PHANTOM)
  const evictShared = createScriptRunner(redis, EVICT_PHANTOM)
  const local = new LRUCache<string, PhantomEntry | 'inactive'>({
    max: options.maxEntries,
    ttlResolution: 0,
    perf: { now },
  })
  const localByTokenId = new Map<string, string>()

  function remember(tokenHash: string, entry: PhantomEntry | 'inactive', ttlMs: number): void {
    if (ttlMs <= 0) return
    local.set(tokenHash, entry, { ttl: ttlMs })
    if (entry === 'inactive' || entry.tokenId === undefined) return
    localByTokenId.set(entry.tokenId, tokenHash)
    // The side index stays bounded by the local cache: drop names whose entry is gone.
    if (localByTokenId.size > local.max * 2) {
      for (const [jti, hash] of localByTokenId) if (!local.has(hash)) localByTokenId.delete(jti)
    }
  }

  function forgetLocally(revocation: Revocation): void {
    if (revocation.tokenHash !== undefined) local.delete(revocation.tokenHash)
    if (revocation.tokenId === undefined) return
    const hash = localByTokenId.get(revocation.tokenId)
    if (hash !== undefined) local.delete(hash)
    localByTokenId.delete(revocation.tokenId)
  }

  return {
    async get(tokenHash) {
      if (!options.listening()) throw unavailable(new Error('revocation subscription down'))
      const hit = local.get(tokenHash)
      if (hit !== undefined || sealer === undefined) return hit
      let raw: string | null
      try {
        raw = await redis.get(keys.entry + tokenHash)
      } catch (error) {
        throw unavailable(error)
      }
      const opened = raw === null ? undefined : sealer.open(raw, tokenHash)
      const stored = opened === undefined ? undefined : parseStored(opened)
      if (stored === undefined || stored.until <= now()) return undefined
      remember(tokenHash, stored.v, stored.until - now())
      return stored.v
    },
    async set(tokenHash, entry, ttlSeconds) {
      if (ttlSeconds <= 0) return
      const ttlMs = ttlSeconds * 1000
      if (sealer === undefined) {
        remember(tokenHash, entry, ttlMs)
        return
      }
      const stored: StoredPhantom = { v: entry, until: now() + ttlMs }
      const jti = entry === 'inactive' ? undefined : entry.tokenId
      let written: unknown
      try {
        written = await setShared(
          [
            keys.entry + tokenHash,
            keys.tombstone + tokenHash,
            keys.jtiTombstone + (jti ?? ''),
            keys.jtiIndex + (jti ?? ''),
          ],
          [
            sealer.seal(JSON.stringify(stored), tokenHash),
            ttlMs,
            jti === undefined ? '0' : '1',
            tokenHash,
          ],
        )
      } catch (error) {
        throw unavailable(error)
      }
      // 0: the token was revoked a moment ago (tombstone); it must not be cached anywhere.
      if (written === 1) remember(tokenHash, entry, ttlMs)
    },
    async evict(revocation) {
      forgetLocally(revocation)
      try {
        await evictShared(
          [keys.entry, keys.tombstone, keys.jtiIndex, keys.jtiTombstone, keys.split],
          [revocation.tokenHash ?? '', revocation.tokenId ?? '', options.tombstoneMs],
        )
      } catch (error) {
        throw unavailable(error)
      }
    },
    get size() {
      return local.size
    },
    forgetLocalCopies() {
      local.clear()
      localByTokenId.clear()
    },
  }
}

function parseStored(text: string): StoredPhantom | undefined {
  try {
    const stored = JSON.parse(text) as StoredPhantom
    return typeof stored.until === 'number' && stored.v !== undefined ? stored : undefined
  } catch {
    return undefined
  }
}
