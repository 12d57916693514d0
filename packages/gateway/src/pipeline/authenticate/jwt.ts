import type { JwtValidator } from '@gatehouse/jwt'
import { tokenLogHash } from '../../token-hash.js'
import type { MatchedRequest, Principal } from '../types.js'
import { readBearerToken } from './bearer-token.js'

/**
 * `jwt`: the client sends a JWT access token, verified with `@gatehouse/jwt` against the issuer's
 * JWKS and this route's audience, through the validator's verified-token cache (a repeat token is
 * a map lookup, not a signature check). The same JWT is forwarded upstream, which verifies again.
 */
export function createJwtAuthenticator(validator: JwtValidator) {
  return async function authenticateJwt(req: MatchedRequest): Promise<Principal> {
    const token = readBearerToken(req.headers)
    const verified = await validator.validate(token)
    return {
      subject: verified.subject,
      clientId: verified.clientId,
      scopes: verified.scopes,
      jwt: token,
      tokenId: verified.tokenId,
      tokenHash: tokenLogHash(token),
    }
  }
}
