import type { RequestContext, ServerContext } from '../../context.js'
import { ConsentRequired, InvalidRequest, LoginRequired, type OAuthError } from '../../errors.js'
import { hostCookie } from '../../http/cookies.js'
import { readBody } from '../../http/form.js'
import { INTERACTION_COOKIE, readLoginSession } from '../../login/session.js'
import { errorBlock, sendPage } from '../../pages/html.js'
import { generateOpaque } from '../../tokens/opaque.js'
import { tokenHash } from '../../tokens/token-hash.js'
import { completeAuthorization, needsConsent, redirectError } from './complete.js'
import { INTERACTION_TTL_SECONDS, type InteractionState } from './interaction.js'
import {
  type AuthorizationRequest,
  RedirectableAuthorizationError,
  readParameters,
  UnsafeAuthorizationError,
  validateAuthorizationRequest,
} from './request.js'

/** The page shown for errors that must not be redirected (RFC 6749 §4.1.2.1). */
export function sendUnsafeError(rc: RequestContext, error: OAuthError): void {
  sendPage(
    rc.res,
    400,
    'This sign-in request cannot be completed',
    `${errorBlock(error.message)}<p>Error code: <code>${error.code}</code>. Go back to the application and try again.</p>`,
  )
}

/** Creates a pending interaction (login, MFA or consent) and sends the browser to it. */
export async function startInteraction(
  ctx: ServerContext,
  rc: RequestContext,
  state: InteractionState,
): Promise<void> {
  const id = generateOpaque('interaction')
  await ctx.store.insertPushedRequest({
    hash: tokenHash(id),
    clientId: state.request.clientId,
    parameters: { state: JSON.stringify(state) },
    expiresAt: ctx.now() + INTERACTION_TTL_SECONDS * 1000,
  })
  rc.res.writeHead(303, {
    location: `${new URL(ctx.urls.authorization).pathname.replace(/authorize$/, 'interaction')}?id=${id}`,
    'set-cookie': hostCookie(INTERACTION_COOKIE, id, INTERACTION_TTL_SECONDS),
    'cache-control': 'no-store',
  })
  rc.res.end()
}

/**
 * GET|POST /authorize (RFC 6749 §4.1.1, OIDC Core §3.1.2), as ordered checks: readParameters →
 * checkClient → checkPushedRequest → checkRedirectUri → checkResponseType → checkPkce →
 * checkScope → checkResource → checkPrompt; then the login session decides between login,
 * consent and issuing the code.
 */
export function createAuthorizationEndpoint(
  ctx: ServerContext,
): (rc: RequestContext) => Promise<void> {
  async function parameters(rc: RequestContext): Promise<Map<string, string>> {
    if (rc.req.method === 'POST') {
      const type = (rc.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
      if (type !== 'application/x-www-form-urlencoded') {
        throw new UnsafeAuthorizationError(
          new InvalidRequest('unsupported media type', 'authorize.content_type'),
        )
      }
      const body = await readBody(rc.req, ctx.config.limits.maxBodyBytes)
      return readParameters(
        new URLSearchParams(body.toString('utf8')),
        ctx.config.limits.maxParameterLength,
      )
    }
    return readParameters(rc.url.searchParams, ctx.config.limits.maxParameterLength)
  }

  async function proceed(rc: RequestContext, request: AuthorizationRequest): Promise<void> {
    const current = request.prompt === 'login' ? null : await readLoginSession(ctx, rc.req)
    // OIDC Core §3.1.2.1: a login older than max_age is repeated.
    const session =
      current !== null &&
      request.maxAge !== null &&
      ctx.now() - current.record.authTime > request.maxAge * 1000
        ? null
        : current
    if (session === null) {
      if (request.prompt === 'none') {
        throw new RedirectableAuthorizationError(
          new LoginRequired('the user is not signed in', 'authorize.login_required'),
          request.redirectUri,
          request.state,
        )
      }
      await startInteraction(ctx, rc, {
        request,
        userId: null,
        passwordVerified: false,
        authTime: null,
        amr: [],
      })
      return
    }
    const client = await ctx.store.getClient(request.clientId)
    const consented = await ctx.store.getConsentedScopes(session.user.id, request.clientId)
    if (
      client !== null &&
      (request.prompt === 'consent' || needsConsent(client, request.scopes, consented))
    ) {
      if (request.prompt === 'none') {
        throw new RedirectableAuthorizationError(
          new ConsentRequired('consent is required', 'authorize.consent_required'),
          request.redirectUri,
          request.state,
        )
      }
      await startInteraction(ctx, rc, {
        request,
        userId: session.user.id,
        passwordVerified: true,
        authTime: session.record.authTime,
        amr: [...session.record.amr],
      })
      return
    }
    await completeAuthorization(ctx, rc.res, request, session.user, {
      authTime: session.record.authTime,
      amr: session.record.amr,
    })
  }

  return async function authorizationEndpoint(rc) {
    try {
      const { request } = await validateAuthorizationRequest(ctx, await parameters(rc), {
        pushed: false,
      })
      await proceed(rc, request)
    } catch (error) {
      if (error instanceof UnsafeAuthorizationError) {
        sendUnsafeError(rc, error.error)
        return
      }
      if (error instanceof RedirectableAuthorizationError) {
        redirectError(ctx, rc.res, error.redirectUri, error.state, error.error)
        return
      }
      throw error
    }
  }
}
