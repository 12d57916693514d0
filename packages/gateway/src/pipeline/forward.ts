import http from 'node:http'
import https from 'node:https'
import { pipeline, Transform } from 'node:stream'
import type { Upstream } from '../config/schema.js'
import { GatewayError, PayloadTooLarge, UpstreamTimeout, UpstreamUnavailable } from '../errors.js'
import type { OutboundRequest, UpstreamResponse } from './types.js'

export interface UpstreamTls {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
}

export interface UpstreamClient {
  forward(out: OutboundRequest): Promise<UpstreamResponse>
  close(): void
}

/**
 * One keep-alive pool per upstream, on node:http(s) agents — chosen over an undici Pool by
 * measurement on this class of machine (numbers in docs/gateway.md). The certificate is verified
 * against the configured CA (never `rejectUnauthorized: false`); mTLS presents the gateway's
 * client certificate. Bodies stream both ways; the request body is counted while it streams, so a
 * chunked or lying body cannot pass the route's size limit.
 */
export function createUpstreamClient(upstream: Upstream, tls: UpstreamTls): UpstreamClient {
  const base = new URL(upstream.url)
  const secure = base.protocol === 'https:'
  const agentOptions = {
    keepAlive: true,
    maxSockets: upstream.maxSockets,
    scheduling: 'lifo' as const,
  }
  const agent = secure
    ? new https.Agent({ ...agentOptions, ...tls, minVersion: 'TLSv1.2' })
    : new http.Agent(agentOptions)
  const request = secure ? https.request : http.request
  const basePath = base.pathname.replace(/\/$/, '')
  const { connectMs, responseMs } = upstream.timeouts
  const hostname = base.hostname.replace(/^\[|\]$/g, '')

  return {
    forward(out) {
      return new Promise<UpstreamResponse>((resolve, reject) => {
        const started = performance.now()
        let settled = false
        // pipeline() tears the upstream request down with its own error; the body limit must win.
        let bodyTooLarge: PayloadTooLarge | undefined
        const fail = (failure: unknown) => {
          const error = bodyTooLarge ?? failure
          if (settled) return
          settled = true
          clearTimeout(responseTimer)
          reject(
            error instanceof GatewayError
              ? error
              : new UpstreamUnavailable({
                  cause: error,
                  detail: String((error as NodeJS.ErrnoException).code),
                }),
          )
        }
        const upstreamRequest = request({
          agent,
          hostname,
          port: base.port === '' ? undefined : Number(base.port),
          method: out.method,
          path: `${basePath}${out.path}`,
          headers: { ...out.headers, host: base.host },
        })
        const responseTimer = setTimeout(
          () => upstreamRequest.destroy(new UpstreamTimeout()),
          responseMs,
        )
        upstreamRequest.once('socket', (socket) => {
          if (!socket.connecting) return
          const connectTimer = setTimeout(
            () => upstreamRequest.destroy(new UpstreamTimeout()),
            connectMs,
          )
          socket.once('connect', () => clearTimeout(connectTimer))
          socket.once('close', () => clearTimeout(connectTimer))
        })
        upstreamRequest.on('error', fail)
        upstreamRequest.once('response', (response) => {
          clearTimeout(responseTimer)
          if (settled) {
            response.destroy()
            return
          }
          settled = true
          resolve({
            status: response.statusCode ?? 502,
            headers: response.headers,
            body: response,
            upstreamMs: performance.now() - started,
          })
        })
        if (out.body === null) {
          upstreamRequest.end()
          return
        }
        const limit = createBodyLimit(out.maxBodyBytes, (error) => {
          bodyTooLarge = error
        })
        pipeline(out.body, limit, upstreamRequest, (error) => {
          if (error) fail(error)
        })
      })
    },
    close() {
      agent.destroy()
    },
  }
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
