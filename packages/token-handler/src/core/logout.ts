import * as oauth from 'oauth4webapi'
import { InvalidCookie } from '../errors.js'
import type { TokenHandlerContext } from './context.js'
import type { CookieKind } from './cookies.js'
import { sessionState } from './session.js'

/**
 * Logout: revoke the refresh token and the access token (RFC 7009; the server publishes the
 * revocation so gateways evict cached phantom tokens at once), clear every cookie with the exact
 * attributes it was set with, and hand the SPA the end-session URL (OIDC RP-Initiated Logout) to
 * end the login session at the authorization server too.
 *
 * The cookies are cleared even when the server cannot be reached: the browser is logged out
 * either way, and `revoked: false` tells the SPA the tokens live on until they expire.
 */
export interface LogoutResult {
  readonly endSessionUrl: string | null
  readonly revoked: boolean
  readonly setCookies: readonly string[]
}

export async function logout(
  context: TokenHandlerContext,
  cookieHeader: string | undefined,
): Promise<LogoutResult> {
  const setCookies = context.cookies.clearAll()
  const refreshToken = openQuietly(context, cookieHeader, 'refresh')
  const accessToken = openQuietly(context, cookieHeader, 'access')
  const idToken = openQuietly(context, cookieHeader, 'id')
  const session = sessionState(context, cookieHeader)
  if (idToken !== undefined && session.isLoggedIn) {
    context.endedSessions.end(idToken, session.sessionExpiresAt)
  }
  const server = context.authorizationServer
  let metadata: oauth.AuthorizationServer | undefined
  try {
    metadata = await server.metadata()
  } catch {
    metadata = undefined
  }
  let revoked = refreshToken === undefined && accessToken === undefined
  if (metadata?.revocation_endpoint !== undefined) {
    const toRevoke = [refreshToken, accessToken].filter((token) => token !== undefined)
    const outcomes = await Promise.allSettled(
      toRevoke.map((token) => revoke(context, metadata, token)),
    )
    revoked = outcomes.every((outcome) => outcome.status === 'fulfilled')
  }
  context.audit?.emit({
    type: 'session.ended',
    component: 'token-handler',
    outcome: revoked ? 'success' : 'failure',
    clientId: server.clientId,
    reason: revoked ? 'logout' : 'logout.revocation_failed',
  })
  return { endSessionUrl: endSessionUrl(context, metadata, idToken), revoked, setCookies }
}

async function revoke(
  context: TokenHandlerContext,
  metadata: oauth.AuthorizationServer,
  token: string,
): Promise<void> {
  const server = context.authorizationServer
  const response = await oauth.revocationRequest(
    metadata,
    server.client(),
    server.clientAuth,
    token,
    server.requestOptions(),
  )
  await oauth.processRevocationResponse(response)
}

function endSessionUrl(
  context: TokenHandlerContext,
  metadata: oauth.AuthorizationServer | undefined,
  idToken: string | undefined,
): string | null {
  if (metadata?.end_session_endpoint === undefined) return null
  const url = new URL(metadata.end_session_endpoint)
  url.searchParams.set('client_id', context.authorizationServer.clientId)
  // Off by default: the URL goes through the SPA's script, and the SPA never holds a token.
  // Without the hint the authorization server asks the user to confirm the sign-out.
  if (context.settings.endSessionIdTokenHint && idToken !== undefined) {
    url.searchParams.set('id_token_hint', idToken)
  }
  const postLogout = context.settings.postLogoutRedirectUri
  if (postLogout !== undefined) url.searchParams.set('post_logout_redirect_uri', postLogout)
  return url.href
}

function openQuietly(
  context: TokenHandlerContext,
  cookieHeader: string | undefined,
  kind: CookieKind,
): string | undefined {
  try {
    const opened = context.cookies.open(cookieHeader, kind)
    return opened.status === 'valid' ? opened.value : undefined
  } catch (error) {
    if (error instanceof InvalidCookie) return undefined
    throw error
  }
}
