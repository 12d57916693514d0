import { compactVerify, createLocalJWKSet, type JWK } from 'jose'
import type { RequestContext, ServerContext } from '../context.js'
import { readCookie } from '../http/cookies.js'
import { readBody } from '../http/form.js'
import type { Csrf } from '../login/csrf.js'
import { endLoginSession, readLoginSession, SESSION_COOKIE } from '../login/session.js'
import { escapeHtml, hiddenFields, sendPage } from '../pages/html.js'
import { readParameters, UnsafeAuthorizationError } from './authorize/request.js'

/**
 * GET|POST /logout (OpenID Connect RP-Initiated Logout 1.0). With a valid `id_token_hint`
 * issued by this server the session ends at once; without one the user confirms on a page (a
 * CSRF-protected form), so a third-party page cannot sign users out. `post_logout_redirect_uri`
 * must exactly match one registered for the client the hint was issued to.
 */
export function createLogoutEndpoint(
  ctx: ServerContext,
  csrf: Csrf,
): (rc: RequestContext) => Promise<void> {
  const action = new URL(ctx.urls.endSession).pathname

  async function hintClaims(hint: string | undefined): Promise<Record<string, unknown> | null> {
    if (hint === undefined) return null
    try {
      const jwks = createLocalJWKSet((await ctx.keys.jwks()) as { keys: JWK[] })
      const { payload } = await compactVerify(hint, jwks)
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>
      // An expired ID token is still a fine hint (OIDC RP-Initiated Logout §2); the issuer must be us.
      return claims.iss === ctx.config.issuer ? claims : null
    } catch {
      return null
    }
  }

  return async function logoutEndpoint(rc) {
    let parameters: Map<string, string>
    try {
      const search =
        rc.req.method === 'POST'
          ? new URLSearchParams(
              (await readBody(rc.req, ctx.config.limits.maxBodyBytes)).toString('utf8'),
            )
          : rc.url.searchParams
      parameters = readParameters(search, ctx.config.limits.maxParameterLength)
    } catch (error) {
      if (error instanceof UnsafeAuthorizationError) {
        sendPage(
          rc.res,
          400,
          'Sign-out request not understood',
          `<p>${escapeHtml(error.message)}</p>`,
        )
        return
      }
      throw error
    }
    const claims = await hintClaims(parameters.get('id_token_hint'))
    const hintClient = typeof claims?.aud === 'string' ? claims.aud : null
    const clientId = parameters.get('client_id') ?? hintClient
    if (parameters.has('client_id') && hintClient !== null && hintClient !== clientId) {
      sendPage(
        rc.res,
        400,
        'Sign-out request not understood',
        '<p>The client does not match the ID token.</p>',
      )
      return
    }
    const redirect = parameters.get('post_logout_redirect_uri')
    const client = clientId === null ? null : await ctx.store.getClient(clientId)
    if (
      redirect !== undefined &&
      (client === null || !client.postLogoutRedirectUris.includes(redirect))
    ) {
      sendPage(
        rc.res,
        400,
        'Sign-out request not understood',
        '<p>The return address is not registered.</p>',
      )
      return
    }
    const binding = `logout:${readCookie(rc.req, SESSION_COOKIE) ?? 'none'}`
    const confirmed = rc.req.method === 'POST' && csrf.verify(binding, parameters.get('csrf'))
    const session = await readLoginSession(ctx, rc.req)
    const hintMatches = claims !== null && (session === null || claims.sub === session.user.id)
    if (!confirmed && !hintMatches) {
      const keep: Record<string, string> = { csrf: csrf.token(binding) }
      for (const name of ['post_logout_redirect_uri', 'state', 'client_id']) {
        const value = parameters.get(name)
        if (value !== undefined) keep[name] = value
      }
      if (clientId !== null && keep.client_id === undefined) keep.client_id = clientId
      sendPage(
        rc.res,
        200,
        'Sign out?',
        `<form method="post" action="${escapeHtml(action)}">${hiddenFields(keep)}<button type="submit">Sign out</button></form>`,
      )
      return
    }
    const cleared = await endLoginSession(ctx, rc.req)
    if (session !== null) {
      ctx.audit.emit({
        type: 'logout',
        outcome: 'success',
        subject: session.user.id,
        ip: rc.ip,
        requestId: rc.requestId,
        ...(clientId === null ? {} : { clientId }),
      })
    }
    if (redirect !== undefined) {
      const url = new URL(redirect)
      const state = parameters.get('state')
      if (state !== undefined) url.searchParams.append('state', state)
      rc.res.writeHead(303, {
        location: url.toString(),
        'set-cookie': cleared,
        'cache-control': 'no-store',
      })
      rc.res.end()
      return
    }
    sendPage(rc.res, 200, 'You are signed out', '<p>You can close this window.</p>', {
      'set-cookie': cleared,
    })
  }
}
