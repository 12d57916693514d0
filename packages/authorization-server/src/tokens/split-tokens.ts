/**
 * The split-token pattern: for clients with `tokenFormat: split` the client receives only the
 * JWT's signature; the header and payload are written here at issuance, keyed by the SHA-256
 * (base64url) of the signature, and the gateway rebuilds and verifies the full JWT. The gateway's
 * shared state (in-process now, Redis in issue #7) implements this interface.
 */
export interface SplitTokenStore {
  put(signatureHash: string, headerAndPayload: string, ttlSeconds: number): Promise<void>
  get(signatureHash: string): Promise<string | undefined>
}

/** An in-process split-token store, bounded by expiry (for one process, and for tests). */
export function createInMemorySplitTokenStore(now: () => number = Date.now): SplitTokenStore {
  const entries = new Map<string, { value: string; expiresAt: number }>()
  return {
    async put(signatureHash, headerAndPayload, ttlSeconds) {
      const at = now()
      for (const [key, entry] of entries) {
        if (entry.expiresAt > at) break
        entries.delete(key)
      }
      entries.set(signatureHash, { value: headerAndPayload, expiresAt: at + ttlSeconds * 1000 })
    },
    async get(signatureHash) {
      const entry = entries.get(signatureHash)
      if (entry === undefined || entry.expiresAt <= now()) return undefined
      return entry.value
    },
  }
}
