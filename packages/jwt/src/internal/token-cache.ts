import { hash } from 'node:crypto'
import type { VerifiedToken } from '../types.js'

/**
 * A bounded LRU of verified tokens, keyed by a SHA-256 of the token (never the token itself, so a
 * heap dump does not hold usable tokens), each entry living until min(exp, insertion + ttl).
 *
 * Written by hand on a `Map` (insertion order = recency) because `@gatehouse/jwt` depends on
 * jose only, and the hot path needs nothing more than get/set/evict-oldest.
 */
export interface TokenCache {
  /** `key` is `tokenHash(token)`, computed once per request by the caller. */
  get(key: string, nowSeconds: number): VerifiedToken | undefined
  set(key: string, verified: VerifiedToken, nowSeconds: number): void
  readonly size: number
}

interface Entry {
  readonly verified: VerifiedToken
  readonly until: number
}

/**
 * SHA-256 of the token as a 32-character binary string: a compact Map key. The one-shot
 * `crypto.hash` with a binary (latin1) digest measured ~4× faster than `createHash(…).digest('base64url')`,
 * which matters on the cache-hit path.
 */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'binary')
}

export function createTokenCache(maxEntries: number, ttlSeconds: number): TokenCache {
  const entries = new Map<string, Entry>()
  return {
    get(key, nowSeconds) {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (nowSeconds >= entry.until) {
        entries.delete(key)
        return undefined
      }
      // Refresh recency: re-insert at the young end.
      entries.delete(key)
      entries.set(key, entry)
      return entry.verified
    },
    set(key, verified, nowSeconds) {
      const until = Math.min(verified.expiresAt, nowSeconds + ttlSeconds)
      if (until <= nowSeconds) return
      entries.delete(key)
      entries.set(key, { verified, until })
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
    },
    get size() {
      return entries.size
    },
  }
}
