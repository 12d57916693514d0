import type * as oauth from 'oauth4webapi'
import { InvalidCookie } from '../errors.js'
import { secondsUntil, type TokenHandlerContext } from './context.js'
import { cookieValues } from './cookies.js'

/**
 * The session as the SPA sees it, and the cookies that carry it. The ID-token cookie marks the
 * session: it lives for the session's absolute lifetime, which every later cookie inherits
 * (refreshing never extends it). The SPA gets the user's claims and the CSRF token, never a token.
 */
export type SessionState =
  | { readonly isLoggedIn: false }
  | {
      readonly isLoggedIn: true
      readonly csrfToken: string | undefined
      readonly claims: Readonly<Record<string, unknown>>
      /** Epoch seconds: when the session ends whatever the SPA does. */
      readonly sessionExpiresAt: number
    }

/** An access token without `expires_in` is kept this long (RFC 6749 §5.1 makes it optional). */
const DEFAULT_ACCESS_TOKEN_SECONDS = 300

export function sessionCookies(
  context: TokenHandlerContext,
  tokens: oauth.TokenEndpointResponse,
  sessionExpiresAt: number,
  extra: { readonly csrfToken?: string | undefined; readonly idToken?: string | undefined },
): string[] {
  const remaining = secondsUntil(sessionExpiresAt, context.now)
  const accessSeconds = Math.min(tokens.expires_in ?? DEFAULT_ACCESS_TOKEN_SECONDS, remaining)
  const cookies = [context.cookies.set('access', tokens.access_token, accessSeconds)]
  if (tokens.refresh_token !== undefined) {
    cookies.push(context.cookies.set('refresh', tokens.refresh_token, remaining))
  }
  if (extra.idToken !== undefined) {
    cookies.push(context.cookies.set('id', extra.idToken, remaining))
  }
  if (extra.csrfToken !== undefined) {
    cookies.push(context.cookies.set('csrf', extra.csrfToken, remaining))
  }
  return cookies
}

/** Reads the session from the cookies; a cookie that does not open means no session. */
export function sessionState(
  context: TokenHandlerContext,
  cookieHeader: string | undefined,
): SessionState {
  const id = openQuietly(context, cookieHeader, 'id')
  if (id === undefined || context.endedSessions.hasEnded(id.value)) return { isLoggedIn: false }
  const csrf = openQuietly(context, cookieHeader, 'csrf')
  return {
    isLoggedIn: true,
    csrfToken: csrf?.value,
    claims: idTokenUserClaims(id.value),
    sessionExpiresAt: id.expiresAt,
  }
}

/** Whether any session cookie arrived (valid or not): CSRF is then required. */
export function hasSessionCookies(
  context: TokenHandlerContext,
  cookieHeader: string | undefined,
): boolean {
  if (cookieHeader === undefined) return false
  return (['access', 'refresh', 'id', 'csrf'] as const).some(
    (kind) => cookieValues(cookieHeader, context.cookies.specs[kind].name).length > 0,
  )
}

function openQuietly(
  context: TokenHandlerContext,
  cookieHeader: string | undefined,
  kind: 'id' | 'csrf',
): { value: string; expiresAt: number } | undefined {
  try {
    const opened = context.cookies.open(cookieHeader, kind)
    return opened.status === 'valid' ? opened : undefined
  } catch (error) {
    if (error instanceof InvalidCookie) return undefined
    throw error
  }
}

/**
 * The user claims of an ID token the token handler validated at login and sealed itself (so its
 * payload is trusted without a second signature check).
 */
function idTokenUserClaims(idToken: string): Record<string, unknown> {
  const payload = idToken.split('.')[1]
  if (payload === undefined) return {}
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
    if (typeof claims !== 'object' || claims === null) return {}
    const result: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(claims)) {
      if (!PROTOCOL_CLAIMS.has(name)) result[name] = value
    }
    return result
  } catch {
    return {}
  }
}

export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'aud',
  'azp',
  'exp',
  'iat',
  'nbf',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'jti',
  'sid',
  'auth_time',
  'acr',
  'amr',
])
