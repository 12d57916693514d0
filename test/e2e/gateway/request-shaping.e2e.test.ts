import https from 'node:https'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EchoedRequest } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import { type GatewayStack, startGatewayStack } from './support/start-gateway.js'

let stack: GatewayStack
let token: string
let writer: string

beforeAll(async () => {
  stack = await startGatewayStack()
  token = await stack.issuer.sign({ scope: 'orders:read orders:write' })
  writer = token
})
afterAll(async () => {
  await stack?.close()
})

describe('authorize: methods, content types, body size', () => {
  it('answers 404 problem+json for an unmatched path', async () => {
    const res = await request(`${stack.url}/nowhere`, stack.ca)
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toMatchObject({ status: 404, title: 'not_found' })
  })

  it('answers 405 with Allow for a method the route does not take', async () => {
    const res = await request(`${stack.url}/orders/1`, stack.ca, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, POST')
  })

  it('answers 415 for a content type the route does not accept', async () => {
    const res = await request(`${stack.url}/orders`, stack.ca, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'text/xml' },
      body: '<order/>',
    })
    expect(res.status).toBe(415)
  })

  it('answers 415 for a body without any content type', async () => {
    const res = await request(`${stack.url}/orders`, stack.ca, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}` },
      body: '{}',
    })
    expect(res.status).toBe(415)
  })

  it('answers 413 when Content-Length announces more than the route allows; upstream not called', async () => {
    const before = stack.upstream.received.length
    const res = await request(`${stack.url}/orders`, stack.ca, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(2_000) }),
    })
    expect(res.status).toBe(413)
    expect(stack.upstream.received.length).toBe(before)
  })

  it('answers 413 when a chunked body grows past the limit while streaming', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${stack.url}/orders`,
        {
          method: 'POST',
          ca: stack.ca,
          agent: false,
          headers: {
            authorization: `Bearer ${writer}`,
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
          },
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      let sent = 0
      const push = () => {
        while (sent < 10) {
          sent++
          if (!req.write('x'.repeat(500))) return void req.once('drain', push)
        }
        req.end()
      }
      push()
    })
    expect(status).toBe(413)
  })

  it('streams a large request body and a large response body through', async () => {
    const body = 'y'.repeat(90_000)
    const res = await request(`${stack.url}/upload/file`, stack.ca, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.status).toBe(200)
    expect(res.json<EchoedRequest>().body.length).toBe(90_000)
    const streamed = await request(`${stack.url}/public/stream`, stack.ca)
    expect(streamed.status).toBe(200)
    expect(streamed.text.length).toBe(64 * 16_384)
  })
})

describe('pooled upstream connections: one client body never reaches another request', () => {
  it('drops the upstream connection of an aborted or oversized body instead of reusing it', async () => {
    // A client announces 100 kB, sends 11 bytes that look like a request line, then vanishes.
    const socket = await connectRaw()
    socket.write(
      'POST /upload/aborted HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nGET /admin ',
    )
    await new Promise((resolve) => setTimeout(resolve, 200))
    socket.destroy()
    // Another chunked body over the limit of its route.
    await request(`${stack.url}/orders`, stack.ca, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${writer}`,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      },
      body: 'x'.repeat(5_000),
    }).catch(() => undefined)
    const before = stack.upstream.received.length
    const clean = await request(`${stack.url}/upload/next`, stack.ca, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'second',
    })
    expect(clean.status).toBe(200)
    const echoed = clean.json<EchoedRequest>()
    expect([echoed.method, echoed.url, echoed.body]).toEqual(['POST', '/upload/next', 'second'])
    const seen = stack.upstream.received.slice(before)
    expect(
      seen.every((entry) => !entry.body.includes('GET /admin') && !entry.url.includes('admin')),
    ).toBe(true)
  })
})

describe('forward: a client that goes away', () => {
  it('aborts the upstream exchange at once and logs 499 client.closed', async () => {
    const socket = await connectRaw()
    const before = stack.upstream.received.length
    socket.write('GET /public/slow/gone HTTP/1.1\r\nHost: localhost\r\n\r\n')
    // The upstream has the request (it answers only after 2 s); then the client vanishes.
    await until(() => stack.upstream.received.length > before)
    socket.destroy()
    await until(() => stack.upstream.abandoned.includes('/public/slow/gone'), 1_500)
    await until(() => stack.logs.some((line) => line.path === '/public/slow/gone'))
    const line = stack.logs.find((entry) => entry.path === '/public/slow/gone')
    expect(line).toMatchObject({ status: 499, reason: 'client.closed', routeId: 'public' })
  })
})

/** A TLS connection to the gateway for requests written by hand. */
async function connectRaw(): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: Number(new URL(stack.url).port),
    ca: stack.ca,
    servername: 'localhost',
  })
  await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()))
  return socket
}

/** Polls `condition` every 20 ms; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms: ${condition}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('transform: what reaches the upstream', () => {
  it('strips hop-by-hop and client-sent internal headers, replaces identity headers, sets its own', async () => {
    const res = await request(`${stack.url}/orders/7`, stack.ca, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-gatehouse-subject': 'admin',
        'X-Gatehouse-Client-Id': 'trusted-service',
        'x-forwarded-for': '10.9.9.9',
        forwarded: 'for=10.9.9.9',
        'x-real-ip': '10.9.9.9',
        'x-request-id': 'chosen-by-client',
        cookie: 'session=browser-secret',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': 'listed in Connection',
        te: 'trailers',
        'x-custom': 'kept',
      },
    })
    expect(res.status).toBe(200)
    const { headers } = res.json<EchoedRequest>()
    expect(headers['x-gatehouse-subject']).toBeUndefined()
    expect(headers['x-gatehouse-client-id']).toBeUndefined()
    expect(headers.cookie).toBeUndefined()
    expect(headers['proxy-authorization']).toBeUndefined()
    expect(headers['x-drop-me']).toBeUndefined()
    expect(headers.te).toBeUndefined()
    expect(headers['x-real-ip']).toBeUndefined()
    expect(headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(headers.forwarded).toBe(`for=127.0.0.1;proto=https;host="${new URL(stack.url).host}"`)
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(headers['x-custom']).toBe('kept')
    expect(headers.authorization).toBe(`Bearer ${token}`)
    expect(headers.host).toBe(new URL(stack.upstream.url).host)
  })

  it('never forwards an Authorization header on a public route', async () => {
    const res = await request(`${stack.url}/public/x`, stack.ca, {
      headers: { authorization: 'Bearer forged' },
    })
    expect(res.json<EchoedRequest>().headers.authorization).toBeUndefined()
  })

  it('applies path and header rewrites to the normalised path', async () => {
    const res = await request(`${stack.url}/v1/things/%61bc?q=1`, stack.ca, {
      headers: { 'x-debug': '1', 'x-api-version': '9' },
    })
    const echoed = res.json<EchoedRequest>()
    expect(echoed.url).toBe('/api/things/abc?q=1')
    expect(echoed.headers['x-debug']).toBeUndefined()
    expect(echoed.headers['x-api-version']).toBe('1')
  })
})

describe('forward: upstream TLS, mTLS and failures', () => {
  it('presents the gateway client certificate to an mTLS upstream', async () => {
    const res = await request(`${stack.url}/mtls/x`, stack.ca)
    expect(res.status).toBe(200)
    expect(res.json<EchoedRequest>().clientCertificate).toBe('gatehouse-gateway')
  })

  it.each([
    ['an mTLS upstream refusing a gateway without client certificate', '/mtls-missing/x', 502],
    ['an upstream whose certificate the configured CA does not vouch for', '/unknown-ca/x', 502],
    ['an unreachable upstream', '/down/x', 502],
    ['an upstream slower than the response timeout', '/impatient/slow', 504],
  ])('answers problem+json without internals for %s', async (_name, path, status) => {
    const res = await request(`${stack.url}${path}`, stack.ca)
    expect(res.status).toBe(status)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.text).not.toMatch(/ECONN|127\.0\.0\.1:1|certificate|stack|at /)
  })
})
