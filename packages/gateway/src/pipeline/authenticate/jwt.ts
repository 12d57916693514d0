import type { JwtValidator, VerifiedToken } from '@gatehouse/jwt'
import { LRUCache } from 'lru-cache'
import { GatewayInvalidToken } from '../../errors.js'
import type { RevocationEvents } from '../../state/types.js'
import { tokenCacheKey, tokenLogHash } from '../../token-hash.js'
import type { MatchedRequest, Principal } from '../types.js'
import { readBearerToken } from './bearer-token.js'

/**
 * `jwt`: the client sends a JWT access token, verified with `@gatehouse/jwt` against the issuer's
 * JWKS and this route's audience, through the validator's verified-token cache (a repeat token is
 * a map lookup, not a signature check). The same JWT is forwarded upstream, which verifies again.
 * A JWT stays valid until `exp` by design, but a revocation event that names its `jti` or its
 * hash tombstones it here, so the gateway stops honouring it at once.
 */
export function createJwtAuthenticator(validator: JwtValidator, revocations: RevocationEvents) {
  // Bounded; a day outlives any access token the authorization server issues.
  const revoked = new LRUCache<string, true>({ max: 100_000, ttl: 24 * 60 * 60 * 1000 })
  const unsubscribe = revocations.subscribe(function tombstone(revocation) {
    if (revocation.tokenId !== undefined) revoked.set(`j:${revocation.tokenId}`, true)
    if (revocation.tokenHash !== undefined) revoked.set(`h:${revocation.tokenHash}`, true)
  })
  // The validator's cache hands back the same result object for the same token, so the token's
  // log hash is computed once per token, not once per request. Only the 8-character hash is
  // held: the token itself is never kept beyond the request (a heap dump holds no usable token).
  const logHashes = new WeakMap<VerifiedToken, string>()
  async function authenticateJwt(req: MatchedRequest): Promise<Principal> {
    const token = readBearerToken(req.headers)
    const verified = await validator.validate(token)
    if (
      revoked.size > 0 &&
      ((verified.tokenId !== undefined && revoked.has(`j:${verified.tokenId}`)) ||
        revoked.has(`h:${tokenCacheKey(token)}`))
    ) {
      throw new GatewayInvalidToken('jwt.revoked', 'the access token was revoked')
    }
    let tokenHash = logHashes.get(verified)
    if (tokenHash === undefined) {
      tokenHash = tokenLogHash(token)
      logHashes.set(verified, tokenHash)
    }
    return {
      subject: verified.subject,
      clientId: verified.clientId,
      scopes: verified.scopes,
      jwt: token,
      tokenId: verified.tokenId,
      tokenHash,
    }
  }

  return { authenticate: authenticateJwt, close: unsubscribe }
}
