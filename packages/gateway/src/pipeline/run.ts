import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CorsOriginNotAllowed, RateLimited } from '../errors.js'
import type { BlockListGuard } from './block-list.js'
import { type ClientIpResolver, unmapIpv4 } from './client-ip.js'
import { ClientClosed } from './forward.js'
import { match, type RouteTable } from './match.js'
import type { Observe } from './observe.js'
import { renderError } from './render.js'
import type { MatchedRequest, Outcome, Principal, RawRequest } from './types.js'

export interface Pipeline {
  readonly table: RouteTable
  readonly clientIp: ClientIpResolver
  readonly blockList: BlockListGuard
  readonly observe: Observe
  readonly onObserveError?: (error: unknown) => void
}

// RFC 9110 §7.6.1 (+ what must not come back from an upstream through a proxy).
const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'transfer-encoding',
  'trailer',
  'upgrade',
])

/** What the access log records when the client left before the answer (nginx's 499). */
const CLIENT_CLOSED_STATUS = 499

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The straight-line runner: block list → match → address limits → authenticate → block list
 * (who) → authorize → principal limits → transform → forward, then stream the answer; `observe`
 * runs once in `finally`.
 * The compiler checks the hand-offs: `authorize` cannot run without the `Principal`.
 */
export async function handle(
  pipe: Pipeline,
  incoming: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now()
  const peerIp = incoming.socket.remoteAddress ?? ''
  const clientIp = pipe.clientIp.resolve(peerIp, incoming.headers)
  const requestId = requestIdOf(incoming, peerIp, pipe.clientIp)
  const outcome: Outcome = { status: 500, reason: 'internal' }
  let req: MatchedRequest | undefined
  let who: Principal | undefined
  try {
    const raw: RawRequest = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      headers: incoming.headers,
      peerIp,
      body: incoming,
      hasBody: announcesBody(incoming),
    }
    pipe.blockList.checkIp(clientIp)
    const metadata = raw.method === 'GET' ? pipe.table.metadata.get(raw.url) : undefined
    if (metadata !== undefined) {
      outcome.status = 200
      outcome.reason = 'resource_metadata'
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'max-age=300',
        'content-length': Buffer.byteLength(metadata),
        'x-request-id': requestId,
      })
      res.end(metadata)
      return
    }
    const preflightMethod = raw.headers['access-control-request-method']
    if (raw.method === 'OPTIONS' && typeof preflightMethod === 'string') {
      // A CORS preflight is answered by the gateway for the route the real request would take.
      const target = match(pipe.table, { ...raw, method: preflightMethod }, requestId, clientIp)
      outcome.routeId = target.route.id
      outcome.path = target.path
      const headers = target.route.cors?.preflight(raw.headers.origin)
      if (headers === undefined) throw new CorsOriginNotAllowed()
      outcome.status = 204
      outcome.reason = 'cors.preflight'
      res.writeHead(204, { ...headers, 'x-request-id': requestId }).end()
      return
    }
    req = match(pipe.table, raw, requestId, clientIp)
    const { route } = req
    outcome.routeId = route.id
    outcome.authMethod = route.authMethod
    outcome.path = req.path
    if (route.unexpectedParams?.(req.query)) outcome.unexpectedParams = true
    await route.limitEarly(req)
    who = await route.authenticate(req)
    outcome.subject = who.subject
    outcome.clientId = who.clientId
    outcome.tokenId = who.tokenId
    outcome.tokenHash = who.tokenHash
    pipe.blockList.checkPrincipal(who)
    route.authorize(req, who)
    await route.limit(req, who)
    const out = route.transform(req, who)
    const origin = route.cors === undefined ? undefined : incoming.headers.origin
    const result = await route.forward(out, res, function writeHead(status, upstreamHeaders) {
      const headers: Record<string, string | string[]> = {}
      for (const name in upstreamHeaders) {
        if (!RESPONSE_HOP_BY_HOP.has(name)) headers[name] = upstreamHeaders[name] as string
      }
      headers['x-request-id'] = requestId
      if (route.cors !== undefined) Object.assign(headers, route.cors.response(origin))
      res.writeHead(status, headers)
    })
    outcome.status = result.status
    outcome.reason = 'forwarded'
    outcome.upstreamMs = result.upstreamMs
  } catch (error) {
    if (error instanceof ClientClosed) {
      // Nothing can be answered: the client closed its connection before the upstream did.
      outcome.status = CLIENT_CLOSED_STATUS
      outcome.reason = 'client.closed'
      res.destroy()
      return
    }
    if (res.headersSent) {
      // The answer broke mid-body: it cannot become an error response; end the connection.
      outcome.status = res.statusCode
      outcome.reason = 'upstream.aborted'
      res.destroy()
      return
    }
    if (error instanceof RateLimited) outcome.policy = error.policy
    const rendered = renderError(error, requestId, req?.route.resourceMetadataUrl)
    outcome.status = rendered.status
    outcome.reason = rendered.reason
    // An unread request body must never be parsed as the next request on this connection:
    // answer and close instead of draining it.
    const unread = !incoming.readableEnded && announcesBody(incoming)
    if (unread) rendered.headers.connection = 'close'
    // Browsers may read the refusal (a 401 that tells the SPA to refresh) only with CORS headers.
    const cors = req?.route.cors?.response(incoming.headers.origin) ?? {}
    res.writeHead(rendered.status, { ...rendered.headers, ...cors, 'x-request-id': requestId })
    res.end(rendered.body)
    const socket = incoming.socket
    if (unread) res.once('finish', () => socket?.destroySoon())
  } finally {
    try {
      pipe.observe({
        requestId,
        method: incoming.method ?? '',
        clientIp,
        headerNames: Object.keys(incoming.headers),
        outcome,
        durationMs: performance.now() - started,
      })
    } catch (error) {
      // Observation must never take the gateway down; the answer has already been given.
      pipe.onObserveError?.(error)
    }
  }
}

function announcesBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length']
  if (length !== undefined) return length !== '0'
  return incoming.headers['transfer-encoding'] !== undefined
}

/** An incoming X-Request-Id is kept only from a trusted proxy, and only when well-formed. */
function requestIdOf(
  incoming: IncomingMessage,
  peerIp: string,
  clientIp: ClientIpResolver,
): string {
  const sent = incoming.headers['x-request-id']
  if (typeof sent === 'string' && REQUEST_ID.test(sent) && clientIp.isTrusted(unmapIpv4(peerIp)))
    return sent
  return randomUUID()
}
