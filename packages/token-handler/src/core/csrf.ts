import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { CsrfFailed, InvalidCookie, OriginNotAllowed, SessionExpired } from '../errors.js'
import type { CookieJar } from './cookies.js'

/**
 * The two CSRF defences of the token handler (OAuth for Browser-Based Apps §6.1.3.2):
 *  - every state-changing request must carry an `Origin` from the exact allow-list; a missing
 *    Origin and the opaque `Origin: null` (sandboxed frames, some redirects) are refused;
 *  - after login, it must also carry the CSRF token in a header, equal to the one sealed in the
 *    CSRF cookie. A page on another origin can neither read the token nor set the header without
 *    a CORS preflight that the token handler refuses.
 */
export function checkOrigin(origin: string | undefined, allowedOrigins: ReadonlySet<string>): void {
  if (origin === undefined || origin === '') {
    throw new OriginNotAllowed('the request has no Origin', 'origin.missing')
  }
  if (origin === 'null') {
    throw new OriginNotAllowed('the request Origin is not allowed', 'origin.null')
  }
  if (!allowedOrigins.has(origin)) {
    throw new OriginNotAllowed('the request Origin is not allowed', 'origin.not_allowed')
  }
}

/** A new CSRF token: 256 random bits, base64url. */
export function createCsrfToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Checks the CSRF header against the sealed CSRF cookie; throws `CsrfFailed` on any mismatch. */
export function checkCsrf(
  cookieHeader: string | undefined,
  csrfHeader: string | undefined,
  jar: CookieJar,
): void {
  let cookie: ReturnType<CookieJar['open']>
  try {
    cookie = jar.open(cookieHeader, 'csrf')
  } catch (error) {
    if (error instanceof InvalidCookie) {
      throw new CsrfFailed('the CSRF cookie is invalid', `csrf.${error.reason}`)
    }
    throw error
  }
  if (cookie.status === 'expired') {
    // The CSRF cookie lives exactly as long as the session.
    throw new SessionExpired('the session has expired', 'csrf.session_expired')
  }
  if (cookie.status !== 'valid') {
    throw new CsrfFailed('the CSRF cookie is missing', 'csrf.cookie_missing')
  }
  if (csrfHeader === undefined || csrfHeader === '') {
    throw new CsrfFailed('the CSRF header is missing', 'csrf.header_missing')
  }
  if (!constantTimeEqual(csrfHeader, cookie.value)) {
    throw new CsrfFailed('the CSRF header does not match', 'csrf.mismatch')
  }
}

/** Compares two strings in time independent of where they differ (and of their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest()
  const digestB = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(digestA, digestB)
}
