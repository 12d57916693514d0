import { hash } from 'node:crypto'

/**
 * Sessions ended by logout, so that their cookies — which are sealed values, not server-side
 * sessions — stop showing a logged-in user at `/session` when replayed by hand after logout.
 * Keyed by a SHA-256 of the ID token the session cookie sealed; each entry lives until that
 * session's absolute end (after which its cookies no longer open anyway). The tokens themselves
 * are revoked at the authorization server, so `/refresh` and the gateway refuse them already.
 *
 * In-process: with several token-handler instances, a replay at an instance that did not see the
 * logout is not caught here (its tokens are still revoked everywhere). Bounded: the oldest
 * entries go first beyond `maxEntries`.
 */
export interface EndedSessions {
  end(idToken: string, sessionExpiresAt: number): void
  hasEnded(idToken: string): boolean
}

export function createEndedSessions(maxEntries: number, now: () => number): EndedSessions {
  const ended = new Map<string, number>()
  const key = (idToken: string) => hash('sha256', idToken, 'base64url')
  return {
    end(idToken, sessionExpiresAt) {
      const nowSeconds = Math.floor(now() / 1000)
      for (const [hashed, expiresAt] of ended) {
        if (expiresAt > nowSeconds && ended.size < maxEntries) break
        ended.delete(hashed)
      }
      ended.set(key(idToken), sessionExpiresAt)
    },
    hasEnded(idToken) {
      const expiresAt = ended.get(key(idToken))
      return expiresAt !== undefined && expiresAt > Math.floor(now() / 1000)
    },
  }
}
