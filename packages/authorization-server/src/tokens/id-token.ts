import { SignJWT } from 'jose'
import type { ServerContext } from '../context.js'

/**
 * An OpenID Connect ID token (OIDC Core §2): for the client (aud = client id), carrying only the
 * claims the consented scopes released, plus the authentication facts.
 */
export async function signIdToken(
  ctx: ServerContext,
  input: {
    readonly clientId: string
    readonly subject: string
    readonly nonce: string | null
    readonly authTime: number
    readonly amr: readonly string[]
    readonly released: Readonly<Record<string, unknown>>
  },
): Promise<string> {
  const { kid, alg, key } = await ctx.keys.signingKey()
  const now = Math.floor(ctx.now() / 1000)
  const claims: Record<string, unknown> = {
    ...input.released,
    auth_time: Math.floor(input.authTime / 1000),
    amr: [...input.amr],
    azp: input.clientId,
  }
  if (input.nonce !== null) claims.nonce = input.nonce
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(ctx.config.issuer)
    .setSubject(input.subject)
    .setAudience(input.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + ctx.config.tokens.idTokenTtlSeconds)
    .sign(key)
}
