import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose'
import type { ServerContext } from '../context.js'
import type { ClientRecord } from '../store/store.js'

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const ASSERTION_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256']

/** The `sub` (= client id) of an assertion, read before verification to find the client. */
export function unverifiedAssertionSubject(assertion: string): string | null {
  try {
    const { sub, iss } = decodeJwt(assertion)
    return typeof sub === 'string' && sub === iss ? sub : null
  } catch {
    return null
  }
}

export type AssertionFailure = 'invalid' | 'replayed' | 'too_long_lived'

/**
 * RFC 7523 §3 / OIDC Core §9: iss = sub = client id, aud = the issuer or the endpoint's URL,
 * exp required and near, jti required and never seen before (recorded until exp).
 */
export async function verifyClientAssertion(
  ctx: ServerContext,
  client: ClientRecord,
  assertion: string,
  endpointUrl: string,
): Promise<AssertionFailure | null> {
  if (client.jwks === null) return 'invalid'
  const now = ctx.now()
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
  try {
    const keys = createLocalJWKSet(client.jwks as unknown as JSONWebKeySet)
    ;({ payload } = await jwtVerify(assertion, keys, {
      issuer: client.clientId,
      subject: client.clientId,
      audience: [ctx.config.issuer, endpointUrl, ctx.urls.token],
      algorithms: ASSERTION_ALGORITHMS,
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(now),
      clockTolerance: ctx.config.tokens.clockSkewSeconds,
    }))
  } catch {
    return 'invalid'
  }
  const exp = (payload.exp ?? 0) * 1000
  if (exp - now > ctx.config.tokens.clientAssertionMaxTtlSeconds * 1000) return 'too_long_lived'
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
    return 'invalid'
  }
  const skew = ctx.config.tokens.clockSkewSeconds * 1000
  const fresh = await ctx.store.recordAssertionJti(client.clientId, payload.jti, exp + skew)
  return fresh ? null : 'replayed'
}
