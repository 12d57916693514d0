import type { AuditBus } from '@gatehouse/audit'
import type { AuthorizationServerClient } from './authorization-server-client.js'
import type { CookieJar } from './cookies.js'
import type { EndedSessions } from './ended-sessions.js'

/** What the core flows share; built once by `createTokenHandler`. */
export interface TokenHandlerContext {
  readonly authorizationServer: AuthorizationServerClient
  readonly cookies: CookieJar
  readonly settings: TokenHandlerSettings
  readonly now: () => number
  readonly audit: AuditBus | undefined
  /** Sessions ended by logout: their replayed cookies no longer show a logged-in user. */
  readonly endedSessions: EndedSessions
}

export interface TokenHandlerSettings {
  /** The SPA page the authorization server redirects back to (exact, registered). */
  readonly redirectUri: string
  readonly postLogoutRedirectUri: string | undefined
  readonly scope: string
  /** How long a started login may take (the temporary login cookie's lifetime). */
  readonly loginTimeoutSeconds: number
  /** The session's absolute lifetime, matching the refresh token's; refreshes never extend it. */
  readonly sessionLifetimeSeconds: number
  /** Push authorization requests (RFC 9126) when the server offers it; always when it requires it. */
  readonly pushedAuthorizationRequests: boolean
  /** Put the ID token in the end-session URL (the SPA's script then sees it). */
  readonly endSessionIdTokenHint: boolean
  /** Extra authorization-request parameters (e.g. `resource`, `prompt`). */
  readonly extraAuthorizationParameters: Readonly<Record<string, string>>
}

/** The seconds from now until `expiresAt` (epoch seconds), never negative. */
export function secondsUntil(expiresAt: number, now: () => number): number {
  return Math.max(0, expiresAt - Math.floor(now() / 1000))
}
