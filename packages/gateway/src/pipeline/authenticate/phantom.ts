import type { JwtValidator } from '@gatehouse/jwt'
import { AudienceMismatch } from '@gatehouse/jwt/errors'
import { GatewayInvalidToken, IntrospectionUnavailable } from '../../errors.js'
import type { GatewayMetrics } from '../../metrics.js'
import type { PhantomCache, PhantomEntry, RevocationEvents } from '../../state/types.js'
import { tokenCacheKey, tokenLogHash } from '../../token-hash.js'
import type { MatchedRequest, Principal } from '../types.js'
import { readBearerToken } from './bearer-token.js'
import type { IntrospectionClient } from './introspection-client.js'

export { createIntrospectionClient, type IntrospectionClient } from './introspection-client.js'

export interface PhantomOptions {
  readonly introspection: IntrospectionClient
  /** Verifies the JWT the authorization server returns (signature, issuer, this route's audience). */
  readonly validator: JwtValidator
  readonly cache: PhantomCache
  readonly revocations: RevocationEvents
  readonly audience: string
  readonly cacheMaxSeconds: number
  readonly negativeSeconds: number
  readonly metrics: GatewayMetrics
  readonly now?: () => number
}

const JWS_SHAPE = /^[\w-]*\.[\w-]*\.[\w-]*$/
const RECENT_REVOCATION_MS = 60_000

/**
 * `phantom`: the client holds an opaque token; the gateway swaps it for the JWT form by
 * introspection, caches it by the token's hash until `exp` (bounded by the state's LRU and by
 * `cacheMaxSeconds`), coalesces concurrent lookups of one token into one introspection, keeps
 * a short negative entry for inactive tokens, and evicts at once on a revocation event. Scopes and
 * audience are re-checked on every hit. A JWT sent here is refused: methods are never mixed.
 */
export function createPhantomAuthenticator(options: PhantomOptions) {
  const now = options.now ?? Date.now
  const { cache, metrics } = options
  const flights = new Map<string, Promise<PhantomEntry | 'inactive'>>()
  // One cache entry belongs to one token: the principal (and the token's log hash) is built once
  // per entry, not once per request.
  const principals = new WeakMap<PhantomEntry, Principal>()
  // Revocations that arrive while an introspection is in flight must still win.
  const recent = new Map<string, number>()
  const unsubscribe = options.revocations.subscribe(function onRevocation(revocation) {
    const at = now()
    if (revocation.tokenHash !== undefined) recent.set(`h:${revocation.tokenHash}`, at)
    if (revocation.tokenId !== undefined) recent.set(`j:${revocation.tokenId}`, at)
    for (const [key, seen] of recent) {
      if (at - seen <= RECENT_REVOCATION_MS && recent.size <= 10_000) break
      recent.delete(key)
    }
  })

  async function lookUp(token: string, key: string): Promise<PhantomEntry | 'inactive'> {
    let result: Awaited<ReturnType<IntrospectionClient['introspect']>>
    try {
      result = await options.introspection.introspect(token)
    } catch (error) {
      metrics.introspectionFailures.inc({ issuer: options.introspection.issuerName })
      throw error instanceof IntrospectionUnavailable
        ? error
        : new IntrospectionUnavailable({ cause: error })
    }
    if (!result.active) {
      await cache.set(key, 'inactive', options.negativeSeconds)
      return 'inactive'
    }
    const verified = await options.validator.validate(result.jwt)
    const aud = verified.claims.aud
    const entry: PhantomEntry = {
      jwt: result.jwt,
      tokenId: verified.tokenId,
      subject: verified.subject,
      clientId: verified.clientId,
      scope: [...verified.scopes].join(' '),
      audiences: typeof aud === 'string' ? [aud] : [...aud],
      expiresAt: verified.expiresAt,
    }
    if (
      recent.has(`h:${key}`) ||
      (entry.tokenId !== undefined && recent.has(`j:${entry.tokenId}`))
    ) {
      return 'inactive'
    }
    const ttl = Math.min(options.cacheMaxSeconds, Math.floor(entry.expiresAt - now() / 1000))
    await cache.set(key, entry, ttl)
    return entry
  }

  async function authenticatePhantom(req: MatchedRequest): Promise<Principal> {
    return resolveOpaque(readBearerToken(req.headers))
  }

  /** The phantom step itself, shared with the `cookie` method (whose cookie holds an opaque token). */
  async function resolveOpaque(token: string): Promise<Principal> {
    if (JWS_SHAPE.test(token)) {
      throw new GatewayInvalidToken(
        'phantom.jwt_presented',
        'this route accepts opaque access tokens only',
      )
    }
    const key = tokenCacheKey(token)
    let entry = await cache.get(key)
    if (entry === undefined || (entry !== 'inactive' && entry.expiresAt <= now() / 1000)) {
      metrics.cacheLookups.inc({ cache: 'phantom', result: 'miss' })
      let flight = flights.get(key)
      if (flight === undefined) {
        flight = lookUp(token, key).finally(() => flights.delete(key))
        flights.set(key, flight)
      }
      entry = await flight
    } else {
      metrics.cacheLookups.inc({
        cache: 'phantom',
        result: entry === 'inactive' ? 'negative_hit' : 'hit',
      })
    }
    if (entry === 'inactive') {
      throw new GatewayInvalidToken('phantom.inactive', 'the access token is not active')
    }
    if (!entry.audiences.includes(options.audience)) throw new AudienceMismatch()
    let principal = principals.get(entry)
    if (principal === undefined) {
      principal = {
        subject: entry.subject,
        clientId: entry.clientId,
        scopes: new Set(entry.scope === '' ? [] : entry.scope.split(' ')),
        jwt: entry.jwt,
        tokenId: entry.tokenId,
        tokenHash: tokenLogHash(token),
      }
      principals.set(entry, principal)
    }
    return principal
  }

  return { authenticate: authenticatePhantom, resolveOpaque, close: unsubscribe }
}
