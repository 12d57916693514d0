import type { ServerContext } from '../../../context.js'
import { InvalidGrant, InvalidRequest } from '../../../errors.js'
import type { TokenRecord } from '../../../store/store.js'
import {
  prepareAccessToken,
  prepareRefreshToken,
  publishSplitHead,
} from '../../../tokens/access-token.js'
import { releaseClaims } from '../../../tokens/claims.js'
import { isWellFormedOpaque } from '../../../tokens/opaque.js'
import { grantScopes, resolveAudience } from '../../../tokens/scope.js'
import { tokenHash } from '../../../tokens/token-hash.js'
import { announceRevocations } from '../../revoke.js'
import type { GrantHandler } from './grant.js'

/**
 * RFC 6749 §6 with rotation on every use (RFC 9700 §4.14.2): the presented refresh token is
 * spent and a successor issued in the same family, never outliving the family. Presenting a
 * spent one is reuse: the whole family, access tokens included, is revoked. A refresh may narrow
 * the scope and audience, never widen them.
 */
export const refreshTokenGrant: GrantHandler = async function refreshTokenGrant(ctx, grant) {
  const { client, form, request } = grant
  const presented = form.get('refresh_token')
  if (presented === undefined)
    throw new InvalidRequest('refresh_token is required', 'refresh.missing')
  const invalid = (reason: string) => new InvalidGrant('the refresh token is invalid', reason)
  if (!isWellFormedOpaque(presented, 'refresh_token')) throw invalid('refresh.malformed')
  const now = ctx.now()
  const stored = await ctx.store.getTokenByHash(tokenHash(presented))
  if (stored === null || stored.kind !== 'refresh_token') throw invalid('refresh.unknown')
  if (stored.clientId !== client.clientId) throw invalid('refresh.other_client')
  if (stored.revokedAt !== null) throw invalid('refresh.revoked')
  if (stored.expiresAt <= now) throw invalid('refresh.expired')
  if (stored.usedAt !== null) return reused(ctx, stored, request)

  const original = stored.scope === '' ? [] : stored.scope.split(' ')
  const requested = form.get('scope')
  // RFC 6749 §6: without a scope parameter the original scope is kept.
  const scopes =
    requested === undefined ? original : grantScopes(requested, client, ctx.knownScopes, original)
  const audience = resolveAudience(grant.resources, client, stored.audience)
  const user = await ctx.store.getUserById(stored.subject)
  if (user === null || user.disabled) throw invalid('refresh.user_gone')

  const successor = prepareRefreshToken(ctx, {
    client,
    subject: stored.subject,
    scopes: original,
    audience: stored.audience,
    grant: stored.claims,
    familyId: stored.familyId ?? stored.jti,
    codeHash: stored.codeHash,
    expiresAt: stored.expiresAt,
  })
  const issued = await prepareAccessToken(ctx, {
    client,
    subject: stored.subject,
    scopes,
    audience,
    claims: releaseClaims(scopes, user.claims, ctx.config.scopes, audience),
    familyId: successor.record.familyId,
    codeHash: stored.codeHash,
  })
  // The spent token is marked, and both successors stored, in one atomic step: a concurrent
  // reuse either loses the race or revokes the family including what this request issued.
  const rotation = await ctx.store.rotateRefreshToken(
    stored.hash,
    [successor.record, issued.record],
    now,
  )
  if (rotation.outcome === 'reused') return reused(ctx, rotation.previous, request)
  if (rotation.outcome === 'not_found') throw invalid('refresh.unknown')
  await publishSplitHead(ctx, issued)
  ctx.audit.emit({
    type: 'token.refreshed',
    outcome: 'success',
    tokenId: issued.record.jti,
    clientId: client.clientId,
    subject: stored.subject,
    requestId: request.requestId,
    ip: request.ip,
    details: { scope: issued.record.scope },
  })
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: issued.record.scope,
    refresh_token: successor.token,
  }
}

async function reused(
  ctx: ServerContext,
  token: TokenRecord,
  request: { readonly requestId: string; readonly ip: string },
): Promise<never> {
  const revoked =
    token.familyId === null ? [] : await ctx.store.revokeTokenFamily(token.familyId, ctx.now())
  ctx.audit.emit({
    type: 'refresh.reuse_detected',
    outcome: 'denied',
    tokenId: token.jti,
    clientId: token.clientId,
    subject: token.subject,
    requestId: request.requestId,
    ip: request.ip,
    details: { revokedTokens: revoked.length },
  })
  await announceRevocations(ctx, revoked, 'refresh.reuse', request)
  throw new InvalidGrant('the refresh token is invalid', 'refresh.reused')
}
