import { authenticateClient } from '../client-auth/authenticate-client.js'
import type { RequestContext, ServerContext } from '../context.js'
import { InvalidRequest } from '../errors.js'
import { readForm } from '../http/form.js'
import { sendText } from '../http/respond.js'
import type { TokenRecord } from '../store/store.js'
import { findToken } from '../tokens/lookup.js'

async function publishSafely(
  ctx: ServerContext,
  event: Parameters<ServerContext['revocations']['publish']>[0],
): Promise<void> {
  try {
    await ctx.revocations.publish(event)
  } catch (error) {
    ctx.reportError(error)
  }
}

/** Publishes and audits the revocation of `tokens` (used by /revoke and by grant defences). */
export async function announceRevocations(
  ctx: ServerContext,
  tokens: readonly TokenRecord[],
  reason: string,
  request: { readonly requestId: string; readonly ip: string },
): Promise<void> {
  const now = ctx.now()
  for (const token of tokens) {
    // The revocation is already stored: a bus failure (Redis down) must not turn it into an
    // error for the client; gateways fall back to introspection and the token's expiry.
    await publishSafely(ctx, {
      jti: token.jti,
      tokenId: token.jti,
      tokenHash: token.hash,
      tokenType: token.kind,
      clientId: token.clientId,
      subject: token.subject,
      expiresAt: token.expiresAt,
      revokedAt: now,
      reason,
    })
    ctx.audit.emit({
      type: 'token.revoked',
      outcome: 'success',
      tokenId: token.jti,
      clientId: token.clientId,
      subject: token.subject,
      reason,
      requestId: request.requestId,
      ip: request.ip,
    })
  }
}

/**
 * POST /revoke (RFC 7009). A client revokes its own tokens; revoking a refresh token revokes its
 * whole family, access tokens included (RFC 7009 §2.1). Unknown, expired or already revoked
 * tokens answer 200 too (§2.2), so the endpoint tells nothing about tokens a caller does not hold.
 */
export function createRevocationEndpoint(
  ctx: ServerContext,
): (rc: RequestContext) => Promise<void> {
  return async function revocationEndpoint(rc) {
    const { single: form } = await readForm(rc.req, ctx.config.limits)
    const { client } = await authenticateClient(
      ctx,
      { authorization: rc.req.headers.authorization, ip: rc.ip, requestId: rc.requestId },
      form,
      ctx.urls.revocation,
    )
    const token = form.get('token')
    if (token === undefined) throw new InvalidRequest('token is required', 'revoke.missing_token')
    const record = await findToken(ctx, token)
    const now = ctx.now()
    if (record !== null && record.revokedAt === null && record.expiresAt > now) {
      if (record.clientId !== client.clientId) {
        throw new InvalidRequest('the token was not issued to this client', 'revoke.foreign_token')
      }
      const revoked =
        record.kind === 'refresh_token' && record.familyId !== null
          ? await ctx.store.revokeTokenFamily(record.familyId, now)
          : [await ctx.store.revokeToken(record.hash, now)].filter(
              (value): value is TokenRecord => value !== null,
            )
      await announceRevocations(ctx, revoked, 'revoked', rc)
    }
    sendText(rc.res, 200, 'text/plain; charset=utf-8', '')
  }
}
