import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import * as oauth from 'oauth4webapi'
import { InvalidCookie, SessionExpired } from '../errors.js'
import { authorizationServerFailure } from './authorization-server-client.js'
import type { TokenHandlerContext } from './context.js'
import { sessionCookies } from './session.js'

/**
 * Refresh, single-flight per session. Two tabs refreshing at once send the same refresh token;
 * the authorization server rotates refresh tokens and treats a second use of the old one as theft
 * (RFC 9700 §4.14), revoking the whole family and logging the user out. So concurrent refreshes
 * of one refresh token (keyed by its SHA-256, never the token itself) share one call to the token
 * endpoint, and a refresh that arrives just after (a tab that sent the old cookie before the new
 * one was set) gets the same result for a short grace period instead of a second call.
 */
export interface RefreshCoordinatorOptions {
  /** How long a completed refresh is reused for the same old refresh token. */
  readonly graceSeconds: number
  readonly maxSessions: number
}

export interface RefreshCoordinator {
  refresh(
    refreshToken: string,
    call: () => Promise<oauth.TokenEndpointResponse>,
  ): Promise<oauth.TokenEndpointResponse>
}

export function createRefreshCoordinator(options: RefreshCoordinatorOptions): RefreshCoordinator {
  const inFlight = new Map<string, Promise<oauth.TokenEndpointResponse>>()
  const recent =
    options.graceSeconds > 0
      ? new LRUCache<string, oauth.TokenEndpointResponse>({
          max: options.maxSessions,
          ttl: options.graceSeconds * 1000,
        })
      : null
  return {
    refresh(refreshToken, call) {
      const key = createHash('sha256').update(refreshToken).digest('base64url')
      const done = recent?.get(key)
      if (done !== undefined) return Promise.resolve(done)
      const running = inFlight.get(key)
      if (running !== undefined) return running
      const started = call().then(
        (tokens) => {
          recent?.set(key, tokens)
          inFlight.delete(key)
          return tokens
        },
        (error: unknown) => {
          inFlight.delete(key)
          throw error
        },
      )
      inFlight.set(key, started)
      return started
    },
  }
}

export interface RefreshResult {
  readonly setCookies: readonly string[]
  readonly accessTokenExpiresAt: number
}

/** Refreshes the session from its refresh-token cookie and sets the new cookies. */
export async function refreshSession(
  context: TokenHandlerContext,
  coordinator: RefreshCoordinator,
  cookieHeader: string | undefined,
): Promise<RefreshResult> {
  let opened: ReturnType<TokenHandlerContext['cookies']['open']>
  try {
    opened = context.cookies.open(cookieHeader, 'refresh')
  } catch (error) {
    if (error instanceof InvalidCookie) {
      throw new SessionExpired('the session is not valid', `refresh.${error.reason}`)
    }
    throw error
  }
  if (opened.status !== 'valid') {
    throw new SessionExpired('the session has expired', `refresh.cookie_${opened.status}`)
  }
  const server = context.authorizationServer
  const metadata = await server.metadata()
  let tokens: oauth.TokenEndpointResponse
  try {
    tokens = await coordinator.refresh(opened.value, async () => {
      const response = await oauth.refreshTokenGrantRequest(
        metadata,
        server.client(),
        server.clientAuth,
        opened.value,
        server.requestOptions(),
      )
      return oauth.processRefreshTokenResponse(metadata, server.client(), response)
    })
  } catch (error) {
    throw authorizationServerFailure(error, 'refresh', (oauthError) => {
      // invalid_grant: the refresh token is expired, revoked or reused; the user logs in again.
      return new SessionExpired('the session has expired', `refresh.refused.${oauthError}`)
    })
  }
  const setCookies = sessionCookies(context, tokens, opened.expiresAt, {
    idToken: tokens.id_token,
  })
  context.audit?.emit({
    type: 'token.refreshed',
    component: 'token-handler',
    outcome: 'success',
    clientId: server.clientId,
  })
  const accessTokenExpiresAt = Math.floor(context.now() / 1000) + (tokens.expires_in ?? 300)
  return { setCookies, accessTokenExpiresAt: Math.min(accessTokenExpiresAt, opened.expiresAt) }
}
