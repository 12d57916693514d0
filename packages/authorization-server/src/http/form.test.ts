import { createServer, type IncomingMessage, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RequestTooLarge } from '../errors.js'
import { readBody } from './form.js'

/** A loopback server whose requests are handed to the test, and a raw client that streams a body. */
async function withServer(onRequest: (req: IncomingMessage) => Promise<string>) {
  const server = createServer((req, res) => {
    onRequest(req).then(
      (text) => res.end(`ok:${text}`),
      (error: unknown) => res.end(`error:${error instanceof RequestTooLarge ? 413 : 'other'}`),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return (server.address() as AddressInfo).port
}
const servers: ReturnType<typeof createServer>[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

function send(port: number, chunks: string[], headers: Record<string, string> = {}) {
  return new Promise<string>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers }, (res) => {
      let text = ''
      res.on('data', (chunk) => {
        text += chunk
      })
      res.on('end', () => resolve(text))
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe('readBody', () => {
  it('joins a body sent in several chunks', async () => {
    const port = await withServer(async (req) => (await readBody(req, 100)).toString())
    expect(await send(port, ['grant_type=', 'client_', 'credentials'])).toBe(
      'ok:grant_type=client_credentials',
    )
  })

  it('reads an empty body', async () => {
    const port = await withServer(async (req) => `[${(await readBody(req, 100)).toString()}]`)
    expect(await send(port, [])).toBe('ok:[]')
  })

  it('refuses a declared length over the limit without reading the body', async () => {
    const port = await withServer(async (req) => (await readBody(req, 10)).toString())
    expect(await send(port, ['x'.repeat(11)])).toBe('error:413')
  })

  it('refuses a chunked body once it grows over the limit', async () => {
    const port = await withServer(async (req) => (await readBody(req, 10)).toString())
    expect(
      await send(port, ['x'.repeat(6), 'x'.repeat(6)], { 'transfer-encoding': 'chunked' }),
    ).toBe('error:413')
  })

  it('rejects when the client goes away before the body ended', async () => {
    let settled: Promise<string> | undefined
    const port = await withServer((req) => {
      settled = readBody(req, 1000).then(
        () => 'resolved',
        () => 'rejected',
      )
      return settled
    })
    const req = request({
      port,
      host: '127.0.0.1',
      method: 'POST',
      headers: { 'content-length': '100' },
    })
    req.on('error', () => {})
    req.write('x'.repeat(10))
    await new Promise((resolve) => setTimeout(resolve, 50))
    req.destroy()
    await expect.poll(() => settled).toBeDefined()
    expect(await settled).toBe('rejected')
  })
})
