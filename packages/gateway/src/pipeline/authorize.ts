import { InsufficientScope } from '@gatehouse/jwt/errors'
import type { Route } from '../config/schema.js'
import { PayloadTooLarge, UnexpectedParameter, UnsupportedMediaType } from '../errors.js'
import type { MatchedRequest, Principal } from './types.js'

/**
 * Coarse-grained authorization, compiled per route: the scopes each method requires (all of them),
 * the request media types accepted, and the announced body size. Pure: no I/O. The body size is
 * enforced again while streaming (`forward`), for chunked bodies and lying senders.
 */
export function createAuthorizer(route: Route) {
  const scopesByMethod = new Map<string, readonly string[]>(
    Object.entries(route.scopes).filter(
      (entry): entry is [string, string[]] => entry[1] !== undefined,
    ),
  )
  const contentTypes = route.contentTypes === undefined ? undefined : new Set(route.contentTypes)
  const maxBodyBytes = route.maxBodyBytes
  const refuseUnexpected =
    route.queryParams?.refuseUnexpected === true
      ? createParamCheck(route.queryParams.allow)
      : undefined
  return function authorize(req: MatchedRequest, who: Principal): void {
    const required = scopesByMethod.get(req.method)
    if (required !== undefined) {
      for (const scope of required) {
        if (!who.scopes.has(scope)) throw new InsufficientScope(required)
      }
    }
    if (refuseUnexpected?.(req.query)) throw new UnexpectedParameter()
    if (!req.hasBody) return
    const length = req.headers['content-length']
    if (length !== undefined && Number(length) > maxBodyBytes)
      throw new PayloadTooLarge(maxBodyBytes)
    if (maxBodyBytes === 0) throw new PayloadTooLarge(0)
    if (contentTypes !== undefined) {
      const type = mediaType(req.headers['content-type'])
      if (type === undefined || !contentTypes.has(type)) throw new UnsupportedMediaType()
    }
  }
}

function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const semicolon = header.indexOf(';')
  return (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase()
}

/** Compiles a query-parameter allow-list into a check: true when the query names another one. */
export function createParamCheck(allow: readonly string[]): (query: string) => boolean {
  const allowed = new Set(allow)
  return function hasUnexpectedParams(query) {
    if (query.length <= 1) return false
    for (const name of new URLSearchParams(query).keys()) if (!allowed.has(name)) return true
    return false
  }
}
