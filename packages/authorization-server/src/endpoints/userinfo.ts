import type { RequestContext, ServerContext } from '../context.js'
import { InsufficientScope, InvalidRequest, InvalidToken } from '../errors.js'
import { sendJson } from '../http/respond.js'
import { releaseClaims } from '../tokens/claims.js'
import { findToken, isActive } from '../tokens/lookup.js'

/**
 * GET|POST /userinfo (OIDC Core §5.3): the claims the token's consented scopes release, read
 * from the user's current attributes. The token comes from the Authorization header only
 * (RFC 6750 §2.1; never the query string).
 */
export function createUserinfoEndpoint(ctx: ServerContext): (rc: RequestContext) => Promise<void> {
  return async function userinfoEndpoint(rc) {
    const header = rc.req.headers.authorization
    if (rc.url.searchParams.has('access_token')) {
      throw new InvalidRequest(
        'send the access token in the Authorization header',
        'userinfo.query_token',
      )
    }
    const match = header === undefined ? null : /^Bearer ([\x21-\x7E]+)$/i.exec(header.trim())
    if (match === null)
      throw new InvalidToken('a bearer access token is required', 'userinfo.missing_token')
    const record = await findToken(ctx, match[1] ?? '')
    if (!isActive(record, ctx.now()) || record.kind !== 'access_token') {
      throw new InvalidToken('the access token is invalid', 'userinfo.inactive')
    }
    const scopes = record.scope.split(' ')
    if (!scopes.includes('openid')) {
      throw new InsufficientScope('the access token lacks the openid scope', 'userinfo.scope')
    }
    const user = await ctx.store.getUserById(record.subject)
    if (user === null || user.disabled)
      throw new InvalidToken('the access token is invalid', 'userinfo.user_gone')
    sendJson(rc.res, 200, {
      ...releaseClaims(scopes, user.claims, ctx.config.scopes),
      sub: user.id,
    })
  }
}
