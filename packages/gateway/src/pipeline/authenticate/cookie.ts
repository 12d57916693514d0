import type { CookieTokenReader } from '@gatehouse/token-handler'
import type { MatchedRequest, Principal } from '../types.js'

/**
 * `cookie` (issue 5): the single-page app holds no token, only the token handler's encrypted
 * HttpOnly cookies. The token handler's own reader opens the access-token cookie (AES-256-GCM,
 * key id and cookie name bound), and on state-changing methods checks the Origin against the
 * allow-list and the CSRF header against the CSRF cookie. The opaque token inside then goes
 * through the phantom step, so the upstream gets a JWT; `transform` removes the Cookie header.
 * An expired access cookie answers 401 `access_token_expired`, so the app calls `/refresh`.
 */
export function createCookieAuthenticator(options: {
  readonly reader: CookieTokenReader
  readonly csrfHeaderName: string
  readonly resolveOpaque: (token: string) => Promise<Principal>
}) {
  const csrfHeaderName = options.csrfHeaderName.toLowerCase()
  return async function authenticateCookie(req: MatchedRequest): Promise<Principal> {
    const csrf = req.headers[csrfHeaderName]
    const token = options.reader({
      cookieHeader: req.headers.cookie,
      method: req.method,
      origin: req.headers.origin,
      csrfHeader: typeof csrf === 'string' ? csrf : undefined,
    })
    return options.resolveOpaque(token)
  }
}
