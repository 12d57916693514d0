import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendRaw, statusLines } from './support/https-client.js'
import { type GatewayStack, startGatewayStack } from './support/start-gateway.js'

let stack: GatewayStack
let token: string

beforeAll(async () => {
  stack = await startGatewayStack()
  token = await stack.issuer.sign({ scope: 'orders:read orders:write admin' })
})
afterAll(async () => {
  await stack?.close()
})

const raw = (payload: string) => sendRaw(stack.port, stack.ca, payload)
const get = (path: string, extra = '') =>
  raw(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`)

describe('path normalisation: a public route cannot reach a protected one', () => {
  it.each([
    '/public/..%2fadmin/users',
    '/public/%2e%2e/admin/users',
    '/public/%2E%2E/admin/users',
    '/public/../admin/users',
    '/public/..;/admin/users',
    '/admin;x/users',
    '/public/./../admin/users',
    '/public/%252e%252e/admin/users',
    '/public/%252fadmin/users',
    '/public/..\\admin/users',
    '/public/..%5cadmin/users',
    '/public/%00/../admin/users',
    '/public//admin/users',
    'overlong',
  ])('refuses %s with 400 problem+json and calls no upstream', async (name) => {
    const path = name === 'overlong' ? `/public/${'a'.repeat(3_000)}` : name
    const before = stack.upstream.received.length
    const answer = await get(path)
    expect(statusLines(answer)).toEqual([400])
    expect(answer).toMatch(/content-type: application\/problem\+json/i)
    expect(stack.upstream.received.length).toBe(before)
  })

  it('forwards the same normalised path it matched (unreserved escapes decoded)', async () => {
    const before = stack.upstream.received.length
    const answer = await get('/public/%7euser/%41bc%3b')
    expect(statusLines(answer)).toEqual([200])
    expect(stack.upstream.received[before]?.url).toBe('/public/~user/Abc%3B')
  })

  it('refuses an absolute-form request target instead of routing by its authority', async () => {
    const answer = await get('https://evil.test/admin/users')
    expect(statusLines(answer)).toEqual([400])
  })
})

describe('request smuggling framings over a raw TLS socket', () => {
  const post = (headers: string, body: string) =>
    raw(
      `POST /upload/x HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n${headers}\r\n${body}`,
    )
  const smuggled = 'GET /admin/users HTTP/1.1\r\nHost: localhost\r\n\r\n'

  it('refuses Content-Length together with Transfer-Encoding (CL.TE / TE.CL)', async () => {
    const before = stack.upstream.received.length
    const answer = await post(
      'Content-Length: 6\r\nTransfer-Encoding: chunked\r\n',
      `0\r\n\r\n${smuggled}`,
    )
    expect(statusLines(answer)).toEqual([400])
    expect(stack.upstream.received.length).toBe(before)
  })

  it('refuses two different Content-Length headers', async () => {
    const answer = await post('Content-Length: 5\r\nContent-Length: 50\r\n', `hello${smuggled}`)
    expect(statusLines(answer)).toEqual([400])
  })

  it('refuses two equal Content-Length headers', async () => {
    const answer = await post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello')
    expect(statusLines(answer)).toEqual([400])
  })

  it.each(['5x', '-5', '+5', '0x5', '5, 5'])(
    'refuses an invalid Content-Length %s',
    async (value) => {
      const answer = await post(`Content-Length: ${value}\r\n`, 'hello')
      expect(statusLines(answer)).toEqual([400])
    },
  )

  it.each(['chunked, identity', 'xchunked', 'chunked\t', 'identity'])(
    'refuses an unusual Transfer-Encoding %j',
    async (value) => {
      const answer = await post(
        `Transfer-Encoding: ${value}\r\n`,
        `5\r\nhello\r\n0\r\n\r\n${smuggled}`,
      )
      expect(statusLines(answer)).toEqual([400])
    },
  )

  it('refuses obsolete line folding', async () => {
    const answer = await raw(
      'GET /public/x HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n',
    )
    expect(statusLines(answer)).toEqual([400])
  })

  it('refuses a bare LF line ending and a space before the colon', async () => {
    expect(statusLines(await raw('GET /public/x HTTP/1.1\nHost: localhost\n\n'))).toEqual([400])
    expect(statusLines(await raw('GET /public/x HTTP/1.1\r\nHost : localhost\r\n\r\n'))).toEqual([
      400,
    ])
  })

  it('refuses a request without Host', async () => {
    expect(statusLines(await raw('GET /public/x HTTP/1.1\r\nConnection: close\r\n\r\n'))).toEqual([
      400,
    ])
  })

  it('does not read an unread body of a refused request as the next request (no cross-request leakage)', async () => {
    const before = stack.upstream.received.length
    // 401 for /orders without a token; its body is a whole request that must never run.
    const answer = await raw(
      `POST /orders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    )
    expect(statusLines(answer)).toEqual([401])
    expect(answer).toMatch(/connection: close/i)
    expect(stack.upstream.received.length).toBe(before)
  })

  it('keeps pipelined requests apart: each gets its own answer, the second its own identity', async () => {
    const before = stack.upstream.received.length
    const answer = await raw(
      `GET /orders/1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\nGET /public/2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    )
    expect(statusLines(answer)).toEqual([200, 200])
    const forwarded = stack.upstream.received.slice(before)
    expect(forwarded.map((echoed) => echoed.url).sort()).toEqual(['/orders/1', '/public/2'])
    const second = forwarded.find((echoed) => echoed.url === '/public/2')
    expect(second?.headers.authorization).toBeUndefined()
  })
})

describe('header caps and timeouts', () => {
  it('refuses more header fields than configured with 431', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `X-H${i}: v\r\n`).join('')
    expect(statusLines(await get('/public/x', many))).toEqual([431])
  })

  it('refuses oversized headers with 431', async () => {
    expect(statusLines(await get('/public/x', `X-Big: ${'a'.repeat(20_000)}\r\n`))).toEqual([431])
  })

  it('closes a connection whose headers never finish (slowloris)', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: stack.port,
      ca: stack.ca,
      servername: 'localhost',
    })
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()))
    socket.write('GET /public/x HTTP/1.1\r\nHost: localhost\r\nX-Slow: ')
    const drip = setInterval(() => socket.writable && socket.write('a'), 200)
    const answer = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
      socket.on('error', () => undefined)
      setTimeout(() => socket.destroy(), 8_000)
    }).finally(() => clearInterval(drip))
    // headersTimeout is 1 s in this stack: the server ends it (408), long before the 8 s guard.
    expect(statusLines(answer)).toEqual([408])
  })

  it('speaks TLS 1.2 or newer only', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: stack.port,
        ca: stack.ca,
        servername: 'localhost',
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
      })
      socket.once('secureConnect', () => resolve('connected'))
      socket.once('error', () => resolve('refused'))
    })
    expect(outcome).toBe('refused')
  })
})
