import type { IncomingHttpHeaders } from 'node:http'
import type { Readable, Writable } from 'node:stream'
import type { HttpMethod } from '../config/schema.js'
import type { CompiledCors } from './cors.js'
import type { WriteHead } from './forward.js'

/** What the HTTP layer hands to the pipeline: the request as received, nothing interpreted yet. */
export interface RawRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** The immediate TCP peer. */
  readonly peerIp: string
  readonly body: Readable
  /** True when the request announces a body (Content-Length > 0 or Transfer-Encoding). */
  readonly hasBody: boolean
}

/** A request whose route is known and whose path has been normalised once. */
export interface MatchedRequest {
  readonly requestId: string
  readonly route: CompiledRoute
  readonly method: HttpMethod
  /** Normalised once by `match`: the path matched and the path forwarded. */
  readonly path: string
  /** The raw query string, with its leading "?", or "". */
  readonly query: string
  readonly headers: IncomingHttpHeaders
  /** From X-Forwarded-For / Forwarded only when the peer is a trusted proxy. */
  readonly clientIp: string
  readonly peerIp: string
  readonly body: Readable
  readonly hasBody: boolean
}

/** Who is calling, as established by the route's one authentication method. */
export interface Principal {
  readonly subject: string | undefined
  readonly clientId: string | undefined
  readonly scopes: ReadonlySet<string>
  /** The JWT forwarded upstream as `Authorization: Bearer`; null on public routes. */
  readonly jwt: string | null
  /** The token's `jti`, joining audit events across the platform. */
  readonly tokenId: string | undefined
  /** First 8 hex chars of SHA-256 of the token the client sent: the most a log ever holds. */
  readonly tokenHash: string | undefined
}

export interface OutboundRequest {
  readonly path: string
  readonly method: HttpMethod
  readonly headers: Record<string, string | string[]>
  readonly body: Readable | null
  readonly maxBodyBytes: number
}

export interface ForwardResult {
  readonly status: number
  /** Time to the upstream's response headers. */
  readonly upstreamMs: number
}

export type AuthMethodName = 'jwt' | 'phantom' | 'split' | 'cookie' | 'public'

/** One route, compiled once at load: every decision it needs is already made or closed over. */
export interface CompiledRoute {
  readonly id: string
  readonly authMethod: AuthMethodName
  readonly methods: ReadonlySet<string>
  /** The route's CORS policy, when browsers on other origins call it. */
  readonly cors: CompiledCors | undefined
  /** The RFC 9728 metadata URL named in this route's 401 answers, when it takes tokens. */
  readonly resourceMetadataUrl: string | undefined
  authenticate(req: MatchedRequest): Promise<Principal>
  authorize(req: MatchedRequest, who: Principal): void
  /** True when the query names a parameter outside the route's allow-list (absent: no list). */
  unexpectedParams?: (query: string) => boolean
  /** Limits keyed by address or route: before authentication (no token work for a flood). */
  limitEarly(req: MatchedRequest): Promise<void>
  limit(req: MatchedRequest, who: Principal): Promise<void>
  transform(req: MatchedRequest, who: Principal): OutboundRequest
  /** Streams the upstream's answer into `downstream`, after `head` wrote its status and headers. */
  forward(out: OutboundRequest, downstream: Writable, head: WriteHead): Promise<ForwardResult>
}

/** What `observe` records about one request, whatever its outcome. */
export interface Outcome {
  status: number
  reason: string
  routeId?: string
  authMethod?: AuthMethodName
  subject?: string | undefined
  clientId?: string | undefined
  tokenId?: string | undefined
  tokenHash?: string | undefined
  upstreamMs?: number
  /** The query named parameters outside the route's allow-list. */
  unexpectedParams?: boolean
  /** The rate-limit policy that refused the request. */
  policy?: string
  /** The normalised path (never the raw one, which may hold an attack). */
  path?: string
}
