import type { JwtValidator } from '@gatehouse/jwt'
import { LRUCache } from 'lru-cache'
import { GatewayInvalidToken, StateUnavailable } from '../../errors.js'
import type { GatewayMetrics } from '../../metrics.js'
import type { RevocationEvents, SplitTokenStore } from '../../state/types.js'
import { tokenCacheKey, tokenLogHash } from '../../token-hash.js'
import type { MatchedRequest, Principal } from '../types.js'
import { readBearerToken } from './bearer-token.js'

const SIGNATURE = /^[A-Za-z0-9_-]{16,1024}$/

/**
 * `split`: the client holds only the JWT's signature; the authorization server put the
 * `header.payload` in the shared state at issuance, keyed by a hash of the signature. The gateway
 * rebuilds the JWT and verifies it in full (through the verified-token cache) before forwarding it.
 * A revocation event naming the token's hash tombstones it here at once, whatever the store does
 * with its entry, so neither the store nor the verified-token cache can keep it alive.
 */
export function createSplitAuthenticator(options: {
  readonly store: SplitTokenStore
  readonly validator: JwtValidator
  readonly metrics: GatewayMetrics
  readonly revocations: RevocationEvents
}) {
  // Bounded; a day outlives any access token the authorization server issues.
  const revoked = new LRUCache<string, true>({ max: 100_000, ttl: 24 * 60 * 60 * 1000 })
  const unsubscribe = options.revocations.subscribe(function tombstone(revocation) {
    if (revocation.tokenHash !== undefined) revoked.set(revocation.tokenHash, true)
  })
  async function authenticateSplit(req: MatchedRequest): Promise<Principal> {
    const token = readBearerToken(req.headers)
    if (token.includes('.')) {
      throw new GatewayInvalidToken(
        'split.full_jwt_presented',
        'this route accepts split tokens only',
      )
    }
    if (!SIGNATURE.test(token))
      throw new GatewayInvalidToken('split.malformed', 'the access token is malformed')
    const key = tokenCacheKey(token)
    if (revoked.has(key))
      throw new GatewayInvalidToken('split.revoked', 'the access token was revoked')
    let headerAndPayload: string | undefined
    try {
      headerAndPayload = await options.store.get(key)
    } catch (error) {
      throw new StateUnavailable({ cause: error })
    }
    options.metrics.cacheLookups.inc({
      cache: 'split',
      result: headerAndPayload === undefined ? 'miss' : 'hit',
    })
    if (headerAndPayload === undefined) {
      throw new GatewayInvalidToken('split.unknown', 'the access token is not known or has expired')
    }
    const jwt = `${headerAndPayload}.${token}`
    const verified = await options.validator.validate(jwt)
    return {
      subject: verified.subject,
      clientId: verified.clientId,
      scopes: verified.scopes,
      jwt,
      tokenId: verified.tokenId,
      tokenHash: tokenLogHash(token),
    }
  }
  return { authenticate: authenticateSplit, close: unsubscribe }
}
