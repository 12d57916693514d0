import { Transform, type Writable } from 'node:stream'
import { type Dispatcher, errors, Pool } from 'undici'
import type { Upstream } from '../config/schema.js'
import { GatewayError, PayloadTooLarge, UpstreamTimeout, UpstreamUnavailable } from '../errors.js'
import type { ForwardResult, OutboundRequest } from './types.js'

export interface UpstreamTls {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
}

export interface UpstreamClient {
  /**
   * Sends the request and streams the answer into `downstream` (the client's response): `head`
   * is called once with the upstream's status and headers, before any body byte. Rejects before
   * `head` with a `GatewayError` (502/504/413); after it, a rejection means the stream broke
   * mid-body. When `downstream` closes before the answer is complete (the client went away), the
   * upstream exchange is aborted.
   */
  forward(out: OutboundRequest, downstream: Writable, head: WriteHead): Promise<ForwardResult>
  close(): Promise<void>
}

/**
 * One keep-alive pool per upstream: an undici v7 Pool, chosen by measurement over node:https
 * keep-alive agents (about 2.5× the throughput through an HTTPS upstream on this class of
 * machine; numbers in docs/gateway.md). The upstream certificate is verified against the
 * configured CA (never `rejectUnauthorized: false`); mTLS presents the gateway's client
 * certificate. Bodies stream both ways, and the request body is counted while it streams, so a
 * chunked or lying body cannot pass the route's size limit.
 *
 * Requests go through `pool.dispatch` with one handler object per exchange (`UpstreamExchange`)
 * rather than `pool.stream` with an AbortSignal: in V8 CPU profiles of the gateway (issue #4)
 * the signal, its listeners and the stream helper's async-resource bookkeeping took about 20 µs
 * per request. Measured side by side on one core, the gateway's server with this forwarding and
 * no pipeline is as fast as the minimal `pool.stream` proxy (bench/README.md).
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
    forward(out, downstream, head) {
      return new Promise<ForwardResult>((resolve, reject) => {
        const exchange = new UpstreamExchange(downstream, head, resolve, reject)
        let body: Transform | null = null
        if (out.body !== null) {
          body = out.body.pipe(
            createBodyLimit(out.maxBodyBytes, (error) => {
              exchange.tooLarge = error
            }),
          )
          const limited = body
          out.body.once('error', (error) => limited.destroy(error))
        }
        try {
          pool.dispatch(
            { path: `${basePath}${out.path}`, method: out.method, headers: out.headers, body },
            exchange,
          )
        } catch (error) {
          exchange.onResponseError(null, error as Error)
        }
      })
    },
    close() {
      return pool.close()
    },
  }
}

/** Writes the upstream's status and headers to the client (the runner filters them). */
export type WriteHead = (status: number, headers: Record<string, string | string[]>) => void

/**
 * One upstream exchange, as an undici dispatch handler: it relays the answer into the client's
 * response with backpressure (the upstream socket pauses while the client's is full) and aborts
 * the exchange when the client goes away first.
 */
class UpstreamExchange implements Dispatcher.DispatchHandler {
  tooLarge: PayloadTooLarge | undefined
  private readonly started = performance.now()
  private status = 0
  private upstreamMs = 0
  private controller: Dispatcher.DispatchController | null = null
  private settled = false
  private clientGone = false

  constructor(
    private readonly downstream: Writable,
    private readonly head: WriteHead,
    private readonly resolve: (result: ForwardResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    downstream.once('close', this.onDownstreamClose)
  }

  private readonly onDownstreamClose = (): void => {
    if (this.settled || this.downstream.writableFinished) return
    this.clientGone = true
    this.controller?.abort(new ClientClosed())
  }

  private readonly onDrain = (): void => {
    this.controller?.resume()
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    // The client may have gone while the request waited for a free upstream connection.
    if (this.downstream.destroyed) {
      this.clientGone = true
      controller.abort(new ClientClosed())
    }
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.upstreamMs = performance.now() - this.started
    this.status = statusCode
    this.head(statusCode, headers as Record<string, string | string[]>)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.downstream.write(chunk)) {
      controller.pause()
      this.downstream.once('drain', this.onDrain)
    }
  }

  onResponseEnd(): void {
    this.settled = true
    this.downstream.end()
    this.resolve({ status: this.status, upstreamMs: this.upstreamMs })
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.settled) return
    this.settled = true
    // undici reports the abort in its own words: what happened is that the client left.
    if (this.clientGone) this.reject(new ClientClosed())
    else if (this.status !== 0) this.reject(error)
    else this.reject(this.tooLarge ?? toGatewayError(error))
  }
}

/** The reason an exchange is aborted when the client closed its connection first. */
export class ClientClosed extends Error {
  constructor() {
    super('the client closed the connection')
    this.name = 'ClientClosed'
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
