import { createHash, randomUUID } from 'node:crypto'
import type { ServerContext } from '../../../context.js'
import { InvalidGrant, InvalidRequest } from '../../../errors.js'
import type { AuthorizationCodeRecord } from '../../../store/store.js'
import {
  prepareAccessToken,
  prepareRefreshToken,
  publishSplitHead,
} from '../../../tokens/access-token.js'
import { constantTimeEqual } from '../../../tokens/constant-time-equal.js'
import { signIdToken } from '../../../tokens/id-token.js'
import { isWellFormedOpaque } from '../../../tokens/opaque.js'
import { tokenHash } from '../../../tokens/token-hash.js'
import { announceRevocations } from '../../revoke.js'
import type { GrantHandler } from './grant.js'

const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6). Checks come before redemption, so a request that
 * fails them changes nothing; the redemption itself is atomic, and a second redemption of a
 * code revokes every token issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
 */
export const authorizationCodeGrant: GrantHandler = async function authorizationCodeGrant(
  ctx,
  grant,
) {
  const { client, form, request } = grant
  const code = form.get('code')
  const verifier = form.get('code_verifier')
  const redirectUri = form.get('redirect_uri')
  if (code === undefined) throw new InvalidRequest('code is required', 'code.missing')
  if (verifier === undefined)
    throw new InvalidRequest('code_verifier is required (PKCE)', 'pkce.missing_verifier')
  if (!CODE_VERIFIER.test(verifier))
    throw new InvalidRequest('code_verifier is malformed', 'pkce.malformed_verifier')
  if (redirectUri === undefined)
    throw new InvalidRequest('redirect_uri is required', 'code.missing_redirect_uri')
  if (grant.resources !== undefined && grant.resources.length > 0) {
    throw new InvalidRequest('the resource is fixed at /authorize', 'code.resource')
  }
  const invalid = (reason: string) => new InvalidGrant('the authorization code is invalid', reason)
  if (!isWellFormedOpaque(code, 'authorization_code')) throw invalid('code.malformed')
  const hash = tokenHash(code)
  const now = ctx.now()
  const stored = await ctx.store.getAuthorizationCode(hash)
  if (stored === null) throw invalid('code.unknown')
  if (stored.usedAt !== null) return replayed(ctx, stored, request)
  if (stored.clientId !== client.clientId) throw invalid('code.other_client')
  if (stored.expiresAt <= now) throw invalid('code.expired')
  if (stored.redirectUri !== redirectUri) throw invalid('code.redirect_uri_mismatch')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  if (!constantTimeEqual(challenge, stored.codeChallenge)) throw invalid('pkce.mismatch')

  const scopes = stored.scope === '' ? [] : stored.scope.split(' ')
  const released = (stored.claims.released ?? {}) as Record<string, unknown>
  const accessClaims = (stored.claims.accessClaims ?? released) as Record<string, unknown>
  const amr = (stored.claims.amr ?? []) as string[]
  const familyId = client.grantTypes.includes('refresh_token') ? randomUUID() : null
  const issued = await prepareAccessToken(ctx, {
    client,
    subject: stored.subject,
    scopes,
    audience: stored.audience,
    claims: accessClaims,
    familyId,
    codeHash: hash,
  })
  const refresh =
    familyId === null
      ? null
      : prepareRefreshToken(ctx, {
          client,
          subject: stored.subject,
          scopes,
          audience: stored.audience,
          grant: { authTime: stored.authTime, amr },
          familyId,
          codeHash: hash,
        })
  // The tokens are stored (bound to the code) before the code is spent: if another request
  // spends it first, the replay path below revokes everything bound to the code, these included.
  await ctx.store.insertToken(issued.record)
  if (refresh !== null) await ctx.store.insertToken(refresh.record)
  const redeemed = await ctx.store.redeemAuthorizationCode(hash, now)
  if (redeemed.outcome === 'replayed') return replayed(ctx, redeemed.code, request)
  if (redeemed.outcome === 'not_found') throw invalid('code.unknown')
  await publishSplitHead(ctx, issued)

  const response: Record<string, unknown> = {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: issued.record.scope,
  }
  if (refresh !== null) response.refresh_token = refresh.token
  if (scopes.includes('openid')) {
    response.id_token = await signIdToken(ctx, {
      clientId: client.clientId,
      subject: stored.subject,
      nonce: stored.nonce,
      authTime: stored.authTime,
      amr,
      released,
    })
  }
  ctx.audit.emit({
    type: 'token.issued',
    outcome: 'success',
    tokenId: issued.record.jti,
    clientId: client.clientId,
    subject: stored.subject,
    requestId: request.requestId,
    ip: request.ip,
    details: {
      grantType: 'authorization_code',
      format: client.tokenFormat,
      scope: issued.record.scope,
    },
  })
  return response
}

async function replayed(
  ctx: ServerContext,
  code: AuthorizationCodeRecord,
  request: { readonly requestId: string; readonly ip: string },
): Promise<never> {
  const revoked = await ctx.store.revokeTokensFromCode(code.hash, ctx.now())
  ctx.audit.emit({
    type: 'code.replayed',
    outcome: 'denied',
    clientId: code.clientId,
    subject: code.subject,
    requestId: request.requestId,
    ip: request.ip,
    details: { revokedTokens: revoked.length },
  })
  await announceRevocations(ctx, revoked, 'code.replay', request)
  throw new InvalidGrant('the authorization code is invalid', 'code.replayed')
}
