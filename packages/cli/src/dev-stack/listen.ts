import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'

export interface Listening {
  readonly server: Server
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves a request listener over HTTPS on 127.0.0.1 with the dev stack's certificate. The
 * timeouts are those of a server facing untrusted clients (slow headers, slow bodies).
 */
export async function listenHttps(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls: { cert: string; key: string; ca?: string; requestCert?: boolean },
  port: number,
  host = '127.0.0.1',
): Promise<Listening> {
  const server = createHttpsServer(
    {
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      ...(tls.requestCert === true
        ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true }
        : {}),
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
    },
    handler,
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        setTimeout(() => server.closeAllConnections(), 2_000).unref()
      }),
  }
}

export interface LaterListening extends Listening {
  /** Installs the real handler; until then requests get 503 with Retry-After. */
  install(handler: (req: IncomingMessage, res: ServerResponse) => void): void
}

/** Listens now (so the port, hence the URL, is known) and takes the handler later. */
export async function listenLater(
  tls: { cert: string; key: string },
  port: number,
  host = '127.0.0.1',
): Promise<LaterListening> {
  let current: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const listening = await listenHttps(
    (req, res) => {
      if (current !== undefined) return current(req, res)
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' })
      res.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Service Unavailable',
          status: 503,
          detail: 'starting',
        }),
      )
    },
    tls,
    port,
    host,
  )
  return {
    ...listening,
    install(handler) {
      current = handler
    },
  }
}
