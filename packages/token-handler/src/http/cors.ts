/**
 * CORS for the SPA (Fetch standard §3.2): only the exact allowed origins get an answer, always
 * with credentials, so a page on any other origin can neither read a response nor send the CSRF
 * header (its preflight is refused).
 */
export interface Cors {
  /** Response headers for a request from `origin` (none when it is not allowed). */
  headers(origin: string | undefined): Record<string, string>
  /** Preflight response headers, or null when the preflight must be refused. */
  preflight(
    origin: string | undefined,
    requestMethod: string | undefined,
    allowedMethods: readonly string[],
  ): Record<string, string> | null
}

export function createCors(allowedOrigins: ReadonlySet<string>, csrfHeaderName: string): Cors {
  const allowHeaders = `content-type, ${csrfHeaderName}`
  return {
    headers(origin) {
      if (origin === undefined || !allowedOrigins.has(origin)) return { vary: 'Origin' }
      return {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      }
    },
    preflight(origin, requestMethod, allowedMethods) {
      if (origin === undefined || !allowedOrigins.has(origin)) return null
      if (requestMethod === undefined || !allowedMethods.includes(requestMethod)) return null
      return {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': allowedMethods.join(', '),
        'access-control-allow-headers': allowHeaders,
        'access-control-max-age': '600',
        vary: 'Origin',
      }
    },
  }
}
