import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import tls from 'node:tls'

export interface TestResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
  json<T = Record<string, unknown>>(): T
}

/** One HTTPS request trusting the test CA, on a fresh connection (no agent reuse between tests). */
export function request(
  url: string,
  ca: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, ca, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
          })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/**
 * Sends raw bytes over TLS and returns everything the server answers until it closes the
 * connection (or `idleMs` pass in silence): for framings no well-behaved client would send.
 */
export function sendRaw(
  port: number,
  ca: string,
  payload: string,
  idleMs = 1_500,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.write(payload)
    })
    const chunks: Buffer[] = []
    let timer = setTimeout(done, idleMs)
    function done() {
      socket.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    }
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      clearTimeout(timer)
      timer = setTimeout(done, idleMs)
    })
    socket.on('end', () => {
      clearTimeout(timer)
      done()
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      if (chunks.length > 0) done()
      else reject(error)
    })
  })
}

/** Status codes of every HTTP/1.1 response found in a raw answer, in order. */
export function statusLines(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]))
}
