/**
 * Test support: a real HTTPS JWKS endpoint on 127.0.0.1, with a certificate from the local dev CA,
 * whose answer a test can change (keys, Cache-Control, status, content type, delay) and which can
 * be stopped and started again on the same port to play an issuer outage.
 */

import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { type CertificateAuthority, createCertificateAuthority } from '@gatehouse/dev-ca'

export interface JwksServer {
  readonly uri: string
  readonly ca: string
  /** Requests received so far (every path). */
  requests: number
  keys: object[]
  cacheControl: string | undefined
  status: number
  contentType: string
  delayMs: number
  /** Raw body to answer instead of `{ keys }`. */
  body: string | undefined
  stop(): Promise<void>
  start(): Promise<void>
}

let sharedCa: Promise<CertificateAuthority> | undefined
let sharedTls: Promise<{ cert: string; key: string }> | undefined

/** One CA and server certificate for the whole test run (making them costs a few ms each). */
export function testTls(): Promise<{ ca: CertificateAuthority; cert: string; key: string }> {
  sharedCa ??= createCertificateAuthority('Gatehouse test CA')
  sharedTls ??= sharedCa.then((ca) => ca.issue({ commonName: 'localhost', usage: 'server' }))
  return Promise.all([sharedCa, sharedTls]).then(([ca, tls]) => ({ ca, ...tls }))
}

export async function startJwksServer(keys: object[]): Promise<JwksServer> {
  const { ca, cert, key } = await testTls()
  let server: Server | undefined
  let port = 0
  const state: JwksServer = {
    uri: '',
    ca: ca.cert,
    requests: 0,
    keys,
    cacheControl: 'max-age=600',
    status: 200,
    contentType: 'application/jwk-set+json',
    delayMs: 0,
    body: undefined,
    async start() {
      server = createServer({ cert, key }, (req, res) => {
        state.requests++
        const answer = () => {
          const headers: Record<string, string> = { 'content-type': state.contentType }
          if (state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl
          res.writeHead(state.status, headers)
          res.end(state.body ?? JSON.stringify({ keys: state.keys }))
        }
        if (state.delayMs > 0) setTimeout(answer, state.delayMs)
        else answer()
        req.resume()
      })
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve))
      port = (server.address() as AddressInfo).port
      ;(state as { uri: string }).uri = `https://127.0.0.1:${port}/jwks`
    },
    async stop() {
      const current = server
      if (current === undefined) return
      server = undefined
      current.closeAllConnections()
      await new Promise<void>((resolve) => current.close(() => resolve()))
    },
  }
  await state.start()
  return state
}

/** A logger that records what it is told, for assertions. */
export function recordingLogger() {
  const lines: { level: 'warn' | 'info'; message: string; fields: Record<string, unknown> }[] = []
  return {
    lines,
    warn: (fields: Record<string, unknown>, message: string) =>
      void lines.push({ level: 'warn', message, fields }),
    info: (fields: Record<string, unknown>, message: string) =>
      void lines.push({ level: 'info', message, fields }),
  }
}
