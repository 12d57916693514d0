import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import type { GatewayConfigParsed } from '../config/schema.js'

export interface ServerTls {
  readonly cert: string
  readonly key: string
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

export type ClientErrorReporter = (status: number, code: string) => void

/**
 * The public listener: HTTPS only (TLS 1.2+), node's strict HTTP/1.1 parser (llhttp) which
 * refuses Content-Length with Transfer-Encoding, duplicate or invalid Content-Length, obsolete line
 * folding and bare LF — we never turn on `insecureHTTPParser` — with header count and size caps and
 * request/headers timeouts against slow clients. Refused framings get a 400 problem+json and the
 * connection closed, so no byte of one request can be read as the start of another.
 */
export function createHttpsServer(
  settings: GatewayConfigParsed['listen'],
  tls: ServerTls,
  onRequest: RequestHandler,
  onClientError: ClientErrorReporter,
): https.Server {
  const { limits } = settings
  const server = https.createServer(
    {
      cert: tls.cert,
      key: tls.key,
      minVersion: settings.tls.minVersion,
      ALPNProtocols: ['http/1.1'],
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // node checks the two timeouts above only this often (default 30 s): check often enough.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 2)),
      maxHeaderSize: limits.maxHeaderBytes,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      insecureHTTPParser: false,
    },
    function acceptRequest(req, res) {
      // node drops headers past maxHeadersCount silently; we keep one more and refuse instead.
      if (req.rawHeaders.length / 2 > limits.maxHeaderCount) {
        return refuse(res, 431, 'too many header fields')
      }
      if (hasDuplicate(req.rawHeaders)) {
        return refuse(res, 400, 'a header field that must appear once appears more than once')
      }
      onRequest(req, res)
    },
  )
  server.maxHeadersCount = limits.maxHeaderCount + 1
  server.on('clientError', function rejectMalformed(error: NodeJS.ErrnoException, socket: Duplex) {
    const code = error.code ?? 'unknown'
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const status =
      code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
    onClientError(status, code)
    socket.end(rawProblem(status))
  })
  return server
}

// Singletons whose repetition is ambiguous (which one does the upstream read?): refused.
const SINGLETONS = new Set(['authorization', 'host', 'content-type', 'x-request-id'])

function hasDuplicate(rawHeaders: readonly string[]): boolean {
  const seen = new Set<string>()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase()
    if (!SINGLETONS.has(name)) continue
    if (seen.has(name)) return true
    seen.add(name)
  }
  return false
}

function problemBody(status: number, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status], status, detail })
}

function refuse(res: ServerResponse, status: number, detail: string): void {
  const body = problemBody(status, detail)
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  })
  res.end(body)
}

function rawProblem(status: number): string {
  const body = problemBody(status, 'the request is malformed or ambiguous')
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  )
}
