import { Transform, type Writable } from 'node:stream'
import { errors, Pool } from 'undici'
import type { Upstream } from '../config/schema.js'
import { GatewayError, PayloadTooLarge, UpstreamTimeout, UpstreamUnavailable } from '../errors.js'
import type { ForwardResult, OutboundRequest, UpstreamHead } from './types.js'

export interface UpstreamTls {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
}

export interface UpstreamClient {
  /**
   * Sends the request and streams the answer into the writable `respond` returns once the status
   * and headers are known. Rejects before `respond` with a `GatewayError` (502/504/413); after
   * it, a rejection means the stream broke mid-body.
   */
  forward(out: OutboundRequest, respond: (head: UpstreamHead) => Writable): Promise<ForwardResult>
  close(): Promise<void>
}

/**
 * One keep-alive pool per upstream: an undici v7 Pool driven with `pool.stream()`, chosen by
 * measurement over node:https keep-alive agents (about 2.5× the throughput through an HTTPS
 * upstream on this class of machine; numbers in docs/gateway.md). The upstream certificate is
 * verified against the configured CA (never `rejectUnauthorized: false`); mTLS presents the
 * gateway's client certificate. Bodies stream both ways, and the request body is counted while
 * it streams, so a chunked or lying body cannot pass the route's size limit.
 */
export function createUpstreamClient(upstream: Upstream, tls: UpstreamTls): UpstreamClient {
  const base = new URL(upstream.url)
  const basePath = base.pathname.replace(/\/$/, '')
  const pool = new Pool(base.origin, {
    connections: upstream.maxSockets,
    pipelining: 1,
    connectTimeout: upstream.timeouts.connectMs,
    headersTimeout: upstream.timeouts.responseMs,
    bodyTimeout: upstream.timeouts.responseMs,
    connect: { ...tls, minVersion: 'TLSv1.2', rejectUnauthorized: true },
  })

  return {
    async forward(out, respond) {
      const started = performance.now()
      let upstreamMs = 0
      let status = 0
      let tooLarge: PayloadTooLarge | undefined
      const body =
        out.body === null
          ? null
          : out.body.pipe(
              createBodyLimit(out.maxBodyBytes, (error) => {
                tooLarge = error
              }),
            )
      if (body !== null) out.body?.once('error', (error) => body.destroy(error))
      try {
        await pool.stream(
          {
            path: `${basePath}${out.path}`,
            method: out.method,
            headers: out.headers,
            body,
            ...(out.signal === undefined ? {} : { signal: out.signal }),
          },
          function onUpstreamHead({ statusCode, headers }) {
            upstreamMs = performance.now() - started
            status = statusCode
            return respond({ status: statusCode, headers })
          },
        )
      } catch (error) {
        if (status !== 0) throw error
        throw tooLarge ?? toGatewayError(error)
      }
      return { status, upstreamMs }
    },
    close() {
      return pool.close()
    },
  }
}

function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.ConnectTimeoutError) {
    return new UpstreamTimeout({ cause: error })
  }
  const code = (error as NodeJS.ErrnoException).code
  return new UpstreamUnavailable({ cause: error, detail: String(code) })
}

/** Counts the request body as it streams and stops it at the route's limit (413). */
export function createBodyLimit(
  maxBytes: number,
  onExceeded: (error: PayloadTooLarge) => void,
): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen <= maxBytes) return callback(null, chunk)
      const error = new PayloadTooLarge(maxBytes)
      onExceeded(error)
      callback(error)
    },
  })
}
