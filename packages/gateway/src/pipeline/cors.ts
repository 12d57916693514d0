import type { Route } from '../config/schema.js'

/** A route's CORS policy, compiled once: exact origins, never `*` with credentials. */
export interface CompiledCors {
  /** Headers for a preflight from `origin`, or undefined when the origin is not allowed. */
  preflight(origin: string | undefined): Record<string, string> | undefined
  /** Headers added to every answer (upstream or error) to an allowed `origin`. */
  response(origin: string | undefined): Record<string, string>
}

/**
 * CORS (Fetch standard) for routes called from a browser on another origin, such as the SPA's
 * `cookie` routes. Origins are compared exactly against the list (no wildcards, no `null`), so
 * credentials are only ever shared with a named origin, and `Vary: Origin` keeps caches honest.
 */
export function createCors(route: Route): CompiledCors | undefined {
  const cors = route.cors
  if (cors === undefined) return undefined
  const origins = new Set(cors.allowedOrigins.map((origin) => new URL(origin).origin))
  const methods = route.match.methods.join(', ')
  const common = (origin: string): Record<string, string> => ({
    'access-control-allow-origin': origin,
    vary: 'Origin',
    ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
  })
  const exposed =
    cors.exposeHeaders.length === 0
      ? {}
      : { 'access-control-expose-headers': cors.exposeHeaders.join(', ') }
  return {
    preflight(origin) {
      if (origin === undefined || !origins.has(origin)) return undefined
      return {
        ...common(origin),
        'access-control-allow-methods': methods,
        'access-control-allow-headers': cors.allowHeaders.join(', '),
        'access-control-max-age': String(cors.maxAgeSeconds),
      }
    },
    response(origin) {
      if (origin === undefined || !origins.has(origin)) return { vary: 'Origin' }
      return { ...common(origin), ...exposed }
    },
  }
}
