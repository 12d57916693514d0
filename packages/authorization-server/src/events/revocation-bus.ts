/**
 * Revocation events: published when a token stops being valid before its expiry, so gateways
 * evict cached phantom-token JWTs at once. In-process now; the Redis bus of issue #7 implements
 * the same interface. `tokenHash` is the SHA-256 (base64url) of the token as the client holds it,
 * the same hash gateways key their caches by (see `tokens/token-hash.ts`).
 */
export interface RevocationEvent {
  readonly jti: string
  /** The same as `jti`, under the name the gateway's revocation events use. */
  readonly tokenId: string
  readonly tokenHash: string
  readonly tokenType: 'access_token' | 'refresh_token'
  readonly clientId: string
  readonly subject: string
  /** Milliseconds since the epoch: after this the token is dead anyway. */
  readonly expiresAt: number
  readonly revokedAt: number
  /** Why: `revoked` (RFC 7009), `refresh.reuse`, `code.replay`. */
  readonly reason: string
}

export type RevocationListener = (event: RevocationEvent) => void

export interface RevocationBus {
  publish(event: RevocationEvent): Promise<void>
  subscribe(listener: RevocationListener): () => void
}

export function createInProcessRevocationBus(
  options: { onListenerError?: (error: unknown) => void } = {},
): RevocationBus {
  const listeners = new Set<RevocationListener>()
  return {
    async publish(event) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          options.onListenerError?.(error)
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}
