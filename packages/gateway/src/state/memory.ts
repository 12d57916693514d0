import { LRUCache } from 'lru-cache'
import type {
  BucketDecision,
  GatewayState,
  PhantomCache,
  PhantomEntry,
  RateLimitCounters,
  Revocation,
  RevocationEvents,
  SplitTokenStore,
} from './types.js'

export interface MemoryStateOptions {
  readonly maxBuckets?: number
  readonly maxPhantomEntries?: number
  readonly maxSplitEntries?: number
  /** The clock, in milliseconds since the epoch. */
  readonly now?: () => number
}

/** In-process state: one process, or the primary of a cluster (see `cluster.ts`). */
export function createMemoryState(options: MemoryStateOptions = {}): GatewayState {
  const now = options.now ?? Date.now
  return {
    rateLimits: createMemoryRateLimits(options.maxBuckets ?? 100_000, now),
    phantomCache: createMemoryPhantomCache(options.maxPhantomEntries ?? 100_000, now),
    revocations: createMemoryRevocationEvents(),
    splitTokens: createMemorySplitTokens(options.maxSplitEntries ?? 100_000, now),
    async close() {},
  }
}

interface Bucket {
  tokens: number
  updatedMs: number
}

/** Token buckets, bounded by an LRU: an evicted bucket is an idle one, and restarts full. */
export function createMemoryRateLimits(maxBuckets: number, now: () => number): RateLimitCounters {
  const buckets = new LRUCache<string, Bucket>({ max: maxBuckets })
  return {
    async take(key, capacity, windowSeconds) {
      return takeToken(buckets, key, capacity, windowSeconds, now())
    },
  }
}

export function takeToken(
  buckets: LRUCache<string, Bucket>,
  key: string,
  capacity: number,
  windowSeconds: number,
  nowMs: number,
): BucketDecision {
  const perMs = capacity / (windowSeconds * 1000)
  const bucket = buckets.get(key) ?? { tokens: capacity, updatedMs: nowMs }
  bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, nowMs - bucket.updatedMs) * perMs)
  bucket.updatedMs = nowMs
  const allowed = bucket.tokens >= 1
  if (allowed) bucket.tokens -= 1
  buckets.set(key, bucket)
  return {
    allowed,
    remaining: Math.floor(bucket.tokens),
    resetSeconds: Math.ceil((capacity - bucket.tokens) / perMs / 1000),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
  }
}

export function createMemoryPhantomCache(maxEntries: number, now: () => number): PhantomCache {
  const entries = new LRUCache<string, PhantomEntry | 'inactive'>({
    max: maxEntries,
    ttlAutopurge: false,
    // Read the clock on every check: a revoked or expired entry must not live on for a tick.
    ttlResolution: 0,
    perf: { now },
  })
  const byTokenId = new Map<string, string>()
  return {
    async get(tokenHash) {
      return entries.get(tokenHash)
    },
    async set(tokenHash, entry, ttlSeconds) {
      if (ttlSeconds <= 0) return
      entries.set(tokenHash, entry, { ttl: ttlSeconds * 1000 })
      if (entry !== 'inactive' && entry.tokenId !== undefined) {
        byTokenId.set(entry.tokenId, tokenHash)
        // The side index stays bounded by the cache: drop names whose entry is gone.
        if (byTokenId.size > maxEntries * 2) {
          for (const [jti, hash] of byTokenId) if (!entries.has(hash)) byTokenId.delete(jti)
        }
      }
    },
    async evict(revocation) {
      if (revocation.tokenHash !== undefined) entries.delete(revocation.tokenHash)
      if (revocation.tokenId !== undefined) {
        const hash = byTokenId.get(revocation.tokenId)
        if (hash !== undefined) entries.delete(hash)
        byTokenId.delete(revocation.tokenId)
      }
    },
    get size() {
      return entries.size
    },
  }
}

export function createMemoryRevocationEvents(): RevocationEvents {
  const listeners = new Set<(revocation: Revocation) => void>()
  return {
    async publish(revocation) {
      for (const listener of listeners) listener(revocation)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}

export function createMemorySplitTokens(maxEntries: number, now: () => number): SplitTokenStore {
  const entries = new LRUCache<string, string>({ max: maxEntries, ttlResolution: 0, perf: { now } })
  return {
    async get(signatureHash) {
      return entries.get(signatureHash)
    },
    async put(signatureHash, headerAndPayload, ttlSeconds) {
      entries.set(signatureHash, headerAndPayload, { ttl: ttlSeconds * 1000 })
    },
  }
}
