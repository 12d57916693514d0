import type { IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { TestPki } from './pki.js'

/** What the upstream received: the gateway's forwarded request, as the API would see it. */
export interface EchoedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** CN of the client certificate the gateway presented (mTLS), or null. */
  readonly clientCertificate: string | null
}

export interface EchoUpstream {
  readonly url: string
  readonly received: EchoedRequest[]
  /** URLs of requests whose connection closed before the answer was complete. */
  readonly abandoned: string[]
  close(): Promise<void>
}

/**
 * A real HTTPS upstream on 127.0.0.1 that answers with what it received. `/slow` waits 2 s before
 * answering (for timeouts); `/stream` streams a large body in chunks; `/status/NNN` answers NNN.
 */
export async function startEchoUpstream(
  pki: TestPki,
  options: { mtls?: boolean } = {},
): Promise<EchoUpstream> {
  const received: EchoedRequest[] = []
  const abandoned: string[] = []
  const server = https.createServer(
    {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      requestCert: options.mtls === true,
      rejectUnauthorized: options.mtls === true,
    },
    (req, res) => {
      res.once('close', () => {
        if (!res.writableFinished) abandoned.push(req.url ?? '')
      })
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate()
        const echoed: EchoedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          clientCertificate: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : null,
        }
        received.push(echoed)
        const url = req.url ?? ''
        if (url.includes('/slow')) {
          setTimeout(() => reply(), 2_000)
          return
        }
        if (url.includes('/stream')) {
          res.writeHead(200, { 'content-type': 'application/octet-stream' })
          let sent = 0
          const push = () => {
            while (sent < 64) {
              sent++
              if (!res.write(Buffer.alloc(16_384, 0x61))) return void res.once('drain', push)
            }
            res.end()
          }
          push()
          return
        }
        reply()
        function reply() {
          const status = /\/status\/(\d{3})/.exec(url)?.[1]
          const body = JSON.stringify(echoed)
          res.writeHead(status === undefined ? 200 : Number(status), {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-upstream': 'echo',
            // Hop-by-hop fields an upstream might send: the gateway must not pass them on.
            'keep-alive': 'timeout=5',
          })
          res.end(body)
        }
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    abandoned,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
