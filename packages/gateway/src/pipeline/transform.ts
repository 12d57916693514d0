import type { Route } from '../config/schema.js'
import type { MatchedRequest, OutboundRequest, Principal } from './types.js'

// RFC 9110 §7.6.1: connection-specific fields never cross a proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  // node's server answers Expect: 100-continue itself; the upstream exchange does not repeat it.
  'expect',
])

// Fields the gateway itself sets for upstreams: a client-sent value is always dropped first
// (Kong's set-or-clear), so a client cannot forge its identity, address or request id.
const GATEWAY_OWNED = new Set([
  'authorization',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'x-request-id',
])

/**
 * Builds the upstream request. Pure: the header plan (what to drop, what to set) and the path
 * rewrite are compiled from the route once; per request it only copies and sets.
 */
export function createTransformer(route: Route, publicHost: string) {
  const tokenRoute = route.auth.method !== 'public'
  const removed = new Set(route.rewrite.removeHeaders.map((name) => name.toLowerCase()))
  // Token routes never forward the browser's cookies: the token is the credential, and cookies
  // may carry other sessions (the `cookie` method removes its own cookie the same way).
  if (tokenRoute) removed.add('cookie')
  const setHeaders = Object.entries(route.rewrite.setHeaders).map(
    ([name, value]) => [name.toLowerCase(), value] as const,
  )
  const { stripPrefix, addPrefix } = route.rewrite
  const rewritePath = compilePathRewrite(stripPrefix, addPrefix)
  return function transform(req: MatchedRequest, who: Principal): OutboundRequest {
    const listedInConnection = connectionTokens(req.headers.connection)
    const headers: Record<string, string | string[]> = {}
    const incoming = req.headers
    for (const name in incoming) {
      const value = incoming[name]
      if (value === undefined) continue
      if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || removed.has(name)) continue
      if (name.startsWith('x-gatehouse-')) continue
      if (listedInConnection?.has(name)) continue
      headers[name] = value
    }
    for (const [name, value] of setHeaders) headers[name] = value
    if (who.jwt !== null) headers.authorization = `Bearer ${who.jwt}`
    headers['x-request-id'] = req.requestId
    const forFor = req.clientIp.includes(':') ? `"[${req.clientIp}]"` : req.clientIp
    // RFC 7239, plus the de-facto X-Forwarded-* that most upstream frameworks read.
    headers.forwarded = `for=${forFor};proto=https;host="${publicHost}"`
    headers['x-forwarded-for'] = req.clientIp
    headers['x-forwarded-proto'] = 'https'
    return {
      path: `${rewritePath(req.path)}${req.query}`,
      method: req.method,
      headers,
      body: req.hasBody ? req.body : null,
      maxBodyBytes: route.maxBodyBytes,
    }
  }
}

function compilePathRewrite(
  stripPrefix: string | undefined,
  addPrefix: string | undefined,
): (path: string) => string {
  if (stripPrefix === undefined && addPrefix === undefined) return (path) => path
  const strip = stripPrefix?.replace(/\/$/, '') ?? ''
  const add = addPrefix?.replace(/\/$/, '') ?? ''
  return function rewritePath(path) {
    let rest = path
    // Only a whole-segment prefix is stripped: /orders does not strip from /orders-admin.
    if (strip !== '' && (path === strip || path.startsWith(`${strip}/`)))
      rest = path.slice(strip.length)
    const joined = `${add}${rest}`
    return joined === '' ? '/' : joined.startsWith('/') ? joined : `/${joined}`
  }
}

function connectionTokens(header: string | undefined): Set<string> | undefined {
  if (header === undefined) return undefined
  return new Set(header.split(',').map((token) => token.trim().toLowerCase()))
}
