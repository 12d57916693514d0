import type { ServerResponse } from 'node:http'
import type { ServerContext } from '../../context.js'
import type { OAuthError } from '../../errors.js'
import type { ClientRecord, UserRecord } from '../../store/store.js'
import { releaseClaims } from '../../tokens/claims.js'
import { generateOpaque } from '../../tokens/opaque.js'
import { tokenHash } from '../../tokens/token-hash.js'
import type { AuthorizationRequest } from './request.js'

/** Sends the browser to the client's redirect URI with `params`, plus `iss` (RFC 9207). */
export function redirectToClient(
  ctx: ServerContext,
  res: ServerResponse,
  redirectUri: string,
  params: Record<string, string | null>,
  headers: Record<string, string | string[]> = {},
): void {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.append(name, value)
  }
  url.searchParams.append('iss', ctx.config.issuer)
  res.writeHead(303, {
    location: url.toString(),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    ...headers,
  })
  res.end()
}

export function redirectError(
  ctx: ServerContext,
  res: ServerResponse,
  redirectUri: string,
  state: string | null,
  error: OAuthError,
  headers: Record<string, string | string[]> = {},
): void {
  redirectToClient(
    ctx,
    res,
    redirectUri,
    { error: error.code, error_description: error.message, state },
    headers,
  )
}

export function needsConsent(
  client: ClientRecord,
  requested: readonly string[],
  consented: readonly string[],
): boolean {
  if (client.firstParty) return false
  return requested.some((scope) => !consented.includes(scope))
}

/**
 * Issues the authorization code (short-lived, single use, stored as a hash, bound to the client,
 * the redirect URI and the PKCE challenge) and redirects to the client.
 */
export async function completeAuthorization(
  ctx: ServerContext,
  res: ServerResponse,
  request: AuthorizationRequest,
  user: UserRecord,
  login: { readonly authTime: number; readonly amr: readonly string[] },
  headers: Record<string, string | string[]> = {},
): Promise<void> {
  const now = ctx.now()
  const code = generateOpaque('authorization_code')
  await ctx.store.insertAuthorizationCode({
    hash: tokenHash(code),
    clientId: request.clientId,
    subject: user.id,
    redirectUri: request.redirectUri,
    scope: request.scopes.join(' '),
    audience: request.audience,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce,
    authTime: login.authTime,
    claims: {
      released: releaseClaims(request.scopes, user.claims, ctx.config.scopes),
      accessClaims: releaseClaims(request.scopes, user.claims, ctx.config.scopes, request.audience),
      amr: [...login.amr],
    },
    issuedAt: now,
    expiresAt: now + ctx.config.tokens.authorizationCodeTtlSeconds * 1000,
    usedAt: null,
  })
  redirectToClient(ctx, res, request.redirectUri, { code, state: request.state }, headers)
}
