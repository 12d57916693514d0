import type { TokenHandlerConfig } from '../config/schema.js'
import { AccessTokenExpired } from '../errors.js'
import { type CookieKey, createCookieSealer } from './cookie-crypto.js'
import { type CookieJar, type CookieSettings, createCookieJar } from './cookies.js'
import { checkCsrf, checkOrigin } from './csrf.js'

/**
 * The cookie→token step for the gateway's `cookie` authentication method: opens the access-token
 * cookie the token handler set and returns the opaque access token, which the gateway then
 * swaps for a JWT like any other opaque token (phantom step).
 *
 * State-changing methods need an allowed Origin and the CSRF header matching the CSRF cookie.
 * Safe methods need no Origin (same-origin GETs often send none) but a present one must be
 * allowed. A missing or expired access cookie is `access_token_expired` (401): the SPA calls the
 * token handler's `/refresh`. A cookie that does not open is `invalid_cookie` (401).
 */
export interface CookieTokenReaderOptions {
  readonly cookies: CookieSettings
  readonly keys: readonly CookieKey[]
  readonly currentKeyId: string
  readonly allowedOrigins: readonly string[]
  /** The request header the gateway reads the CSRF token from (informational for the caller). */
  readonly csrfHeaderName?: string
  readonly now?: () => number
}

/** The reader's options from the token handler's own configuration and resolved cookie keys. */
export function cookieTokenReaderOptions(
  config: TokenHandlerConfig,
  cookieKeys: readonly CookieKey[],
): CookieTokenReaderOptions & { readonly csrfHeaderName: string } {
  return {
    cookies: {
      namePrefix: config.cookies.namePrefix,
      domain: config.cookies.domain,
      basePath: config.basePath,
      apiPath: config.cookies.apiPath,
    },
    keys: cookieKeys,
    currentKeyId: config.cookies.currentKeyId,
    allowedOrigins: config.allowedOrigins,
    csrfHeaderName: config.csrf.headerName,
  }
}

export interface CookieTokenRequest {
  readonly cookieHeader: string | undefined
  readonly method: string
  readonly origin: string | undefined
  readonly csrfHeader: string | undefined
}

export type CookieTokenReader = (request: CookieTokenRequest) => string

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function createCookieTokenReader(options: CookieTokenReaderOptions): CookieTokenReader {
  const sealer = createCookieSealer({ keys: options.keys, currentKeyId: options.currentKeyId })
  const jar: CookieJar = createCookieJar(options.cookies, sealer, options.now ?? Date.now)
  const allowedOrigins = new Set(options.allowedOrigins)

  return function readCookieToken(request) {
    if (SAFE_METHODS.has(request.method.toUpperCase())) {
      if (request.origin !== undefined) checkOrigin(request.origin, allowedOrigins)
    } else {
      checkOrigin(request.origin, allowedOrigins)
      checkCsrf(request.cookieHeader, request.csrfHeader, jar)
    }
    const opened = jar.open(request.cookieHeader, 'access')
    if (opened.status !== 'valid') {
      throw new AccessTokenExpired(
        'the access token has expired; refresh the session',
        `cookie.access_${opened.status}`,
      )
    }
    return opened.value
  }
}
