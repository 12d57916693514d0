/**
 * The gateway's shared state, behind interfaces so the distributed mode can swap the in-process
 * implementation (`memory.ts`) for Redis without touching the pipeline. Every method is async for
 * that reason, even where the memory implementation answers at once.
 */

export interface BucketDecision {
  readonly allowed: boolean
  /** Tokens left after this request. */
  readonly remaining: number
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number
  /** When refused: seconds until one token is available. */
  readonly retryAfterSeconds: number
}

export interface RateLimitCounters {
  /** Takes one token from the bucket `key` (created full), refilling `capacity` per `windowSeconds`. */
  take(key: string, capacity: number, windowSeconds: number): Promise<BucketDecision>
}

/** A JWT obtained by introspection, cached by the opaque token's hash until its `exp`. */
export interface PhantomEntry {
  readonly jwt: string
  readonly tokenId: string | undefined
  readonly subject: string | undefined
  readonly clientId: string | undefined
  /** The space-delimited `scope` claim. */
  readonly scope: string
  /** The token's `aud` values: re-checked against each route's audience on every hit. */
  readonly audiences: readonly string[]
  /** Epoch seconds after which the entry must not be used. */
  readonly expiresAt: number
}

export interface PhantomCache {
  /** `inactive` is the short negative entry for a token the authorization server called inactive. */
  get(tokenHash: string): Promise<PhantomEntry | 'inactive' | undefined>
  set(tokenHash: string, entry: PhantomEntry | 'inactive', ttlSeconds: number): Promise<void>
  /** Evicts by token hash or by `jti`. */
  evict(revocation: Revocation): Promise<void>
  readonly size: number
}

/** A revocation announced by the authorization server: by the opaque token's hash, or by `jti`. */
export interface Revocation {
  readonly tokenHash?: string
  readonly tokenId?: string
}

export interface RevocationEvents {
  publish(revocation: Revocation): Promise<void>
  subscribe(listener: (revocation: Revocation) => void): () => void
}

/** Split tokens: header.payload kept by the authorization server, keyed by a hash of the signature. */
export interface SplitTokenStore {
  get(signatureHash: string): Promise<string | undefined>
  put(signatureHash: string, headerAndPayload: string, ttlSeconds: number): Promise<void>
}

export interface GatewayState {
  readonly rateLimits: RateLimitCounters
  readonly phantomCache: PhantomCache
  readonly revocations: RevocationEvents
  readonly splitTokens: SplitTokenStore
  close(): Promise<void>
}
