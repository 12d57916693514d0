import type { HttpMethod } from '../config/schema.js'
import { MethodNotAllowed, RouteNotFound } from '../errors.js'
import { normalisePath } from './normalise-path.js'
import type { CompiledRoute, MatchedRequest, RawRequest } from './types.js'

/** A route's match rule, compiled once: host, path segments, methods. */
export interface RouteMatcher {
  readonly route: CompiledRoute
  readonly host: string | undefined
  matchesPath(path: string): boolean
}

export interface RouteTable {
  readonly matchers: readonly RouteMatcher[]
  readonly maxPathBytes: number
  readonly allowPathParameters: boolean
  /** RFC 9728 Protected Resource Metadata documents, by their exact path. */
  readonly metadata: ReadonlyMap<string, string>
}

/** Compiles `/a/b` (exact), `/a/*` (one segment) and `/a/**` (prefix) into a segment matcher. */
export function compilePathPattern(pattern: string): (path: string) => boolean {
  const parts = pattern === '/' ? [] : pattern.slice(1).split('/')
  const prefix = parts.at(-1) === '**'
  const fixed = prefix ? parts.slice(0, -1) : parts
  // Walks the path in place (no split, no allocation): it runs for every route tried.
  return function matchesPath(path) {
    const end = path.length > 1 && path.endsWith('/') ? path.length - 1 : path.length
    if (end <= 1) return fixed.length === 0
    let start = 1
    for (const want of fixed) {
      if (start > end) return false
      let slash = path.indexOf('/', start)
      if (slash < 0 || slash > end) slash = end
      if (want !== '*' && (slash - start !== want.length || !path.startsWith(want, start))) {
        return false
      }
      start = slash + 1
    }
    return prefix || start > end
  }
}

/**
 * Normalises the path once and finds the first route (in configuration order) whose host, path
 * and method match. A path known only for other methods answers 405 with `Allow`; else 404.
 */
export function match(
  table: RouteTable,
  raw: RawRequest,
  requestId: string,
  clientIp: string,
): MatchedRequest {
  const queryAt = raw.url.indexOf('?')
  const rawPath = queryAt < 0 ? raw.url : raw.url.slice(0, queryAt)
  const query = queryAt < 0 ? '' : raw.url.slice(queryAt)
  const path = normalisePath(rawPath, table.maxPathBytes, {
    allowParameters: table.allowPathParameters,
  })
  const host = hostOf(raw.headers.host)
  let allowed: Set<string> | undefined
  for (const matcher of table.matchers) {
    if (matcher.host !== undefined && matcher.host !== host) continue
    if (!matcher.matchesPath(path)) continue
    if (!matcher.route.methods.has(raw.method)) {
      allowed ??= new Set<string>()
      for (const method of matcher.route.methods) allowed.add(method)
      continue
    }
    return {
      requestId,
      route: matcher.route,
      method: raw.method as HttpMethod,
      path,
      query,
      headers: raw.headers,
      clientIp,
      peerIp: raw.peerIp,
      body: raw.body,
      hasBody: raw.hasBody,
    }
  }
  if (allowed !== undefined) throw new MethodNotAllowed([...allowed])
  throw new RouteNotFound()
}

function hostOf(header: string | undefined): string {
  if (header === undefined) return ''
  const lower = header.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.indexOf(':')
  return colon < 0 ? lower : lower.slice(0, colon)
}
