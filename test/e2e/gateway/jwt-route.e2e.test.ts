import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EchoedRequest } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import {
  BILLING_API,
  type GatewayStack,
  ORDERS_API,
  startGatewayStack,
} from './support/start-gateway.js'

let stack: GatewayStack

beforeAll(async () => {
  stack = await startGatewayStack((config) => {
    config.issuers = {
      ...config.issuers,
      unreachable: { issuer: 'https://down.test', jwksUri: 'https://127.0.0.1:1/jwks' },
    }
    config.routes.unshift({
      id: 'issuer-down',
      match: { path: '/issuer-down/**', methods: ['GET'] },
      upstream: 'echo',
      auth: { method: 'jwt', issuer: 'unreachable', audience: 'https://api.test/status' },
    })
  })
})
afterAll(async () => {
  await stack?.close()
})

const call = (path: string, token?: string, headers: Record<string, string> = {}) =>
  request(`${stack.url}${path}`, stack.ca, {
    headers: token === undefined ? headers : { authorization: `Bearer ${token}`, ...headers },
  })

describe('jwt route', () => {
  it('forwards a valid token to the upstream and returns its answer', async () => {
    const token = await stack.issuer.sign()
    const res = await call('/orders/42?expand=items', token)
    expect(res.status).toBe(200)
    const echoed = res.json<EchoedRequest>()
    expect(echoed.url).toBe('/orders/42?expand=items')
    expect(echoed.headers.authorization).toBe(`Bearer ${token}`)
    expect(res.headers['x-request-id']).toBe(echoed.headers['x-request-id'])
    expect(res.headers['keep-alive']).toBeUndefined()
  })

  it('answers 401 with a bare Bearer challenge and resource_metadata when no token is sent; upstream not called', async () => {
    const before = stack.upstream.received.length
    const res = await call('/orders/1')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="gatehouse", resource_metadata="${stack.url}/.well-known/oauth-protected-resource/orders"`,
    )
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(stack.upstream.received.length).toBe(before)
  })

  it.each([
    [
      'a token signed by a key the issuer does not publish',
      () => stack.issuer.signWithForeignKey(),
      'invalid_token',
    ],
    [
      'an expired token',
      () => stack.issuer.sign({ exp: Math.floor(Date.now() / 1000) - 3_600 }),
      'invalid_token',
    ],
    [
      'a token minted for another API',
      () => stack.issuer.sign({ aud: BILLING_API }),
      'invalid_token',
    ],
    [
      'a token from another issuer',
      () => stack.issuer.sign({ iss: 'https://evil.test' }),
      'invalid_token',
    ],
    [
      'a token without typ at+jwt (an ID token)',
      () => stack.issuer.sign({}, { typ: 'JWT' }),
      'invalid_token',
    ],
    [
      'a token with alg none',
      async () =>
        `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`,
      'invalid_token',
    ],
    ['a garbage token', async () => 'not-a-jwt', 'invalid_token'],
  ])('refuses %s with 401 invalid_token; upstream not called', async (_name, make, code) => {
    const before = stack.upstream.received.length
    const res = await call('/orders/1', await make())
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(
      new RegExp(
        `^Bearer realm="gatehouse", error="${code}", error_description="[^"]+", resource_metadata="https://`,
      ),
    )
    expect(stack.upstream.received.length).toBe(before)
  })

  it('answers 400 invalid_request for a malformed Authorization header', async () => {
    const res = await call('/orders/1', undefined, { authorization: 'Bearer a b c' })
    expect(res.status).toBe(400)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/)
  })

  it('answers 400 when Authorization is sent twice (which one would the upstream read?)', async () => {
    const token = await stack.issuer.sign()
    const res = await request(`${stack.url}/orders/1`, stack.ca, {
      headers: { authorization: [`Bearer ${token}`, 'Bearer other'] as unknown as string },
    })
    expect(res.status).toBe(400)
  })

  it('answers 403 insufficient_scope naming the needed scope', async () => {
    const token = await stack.issuer.sign({ scope: 'orders:read' })
    const res = await call('/admin/users', token)
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="gatehouse", error="insufficient_scope", error_description="the access token does not carry the scope this request requires", scope="admin"',
    )
  })

  it('checks scopes per method: GET with orders:read, POST needs orders:write', async () => {
    const token = await stack.issuer.sign({ scope: 'orders:read' })
    const post = await request(`${stack.url}/orders`, stack.ca, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(post.status).toBe(403)
    expect(post.headers['www-authenticate']).toMatch(/scope="orders:write"/)
    const writer = await stack.issuer.sign({ scope: 'orders:write' })
    const ok = await request(`${stack.url}/orders`, stack.ca, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${writer}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: '{"item":1}',
    })
    expect(ok.status).toBe(200)
    expect(ok.json<EchoedRequest>().body).toBe('{"item":1}')
  })

  it('serves RFC 9728 Protected Resource Metadata for each protected API', async () => {
    const res = await request(`${stack.url}/.well-known/oauth-protected-resource/orders`, stack.ca)
    expect(res.status).toBe(200)
    expect(res.json()).toEqual({
      resource: ORDERS_API,
      authorization_servers: [stack.issuer.issuer],
      scopes_supported: ['admin', 'orders:read', 'orders:write'],
      bearer_methods_supported: ['header'],
    })
  })

  it('answers 503 problem+json, not 401, when the issuer keys cannot be fetched', async () => {
    const res = await call('/issuer-down/1', await stack.issuer.sign())
    expect(res.status).toBe(503)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['www-authenticate']).toBeUndefined()
    expect(res.headers['retry-after']).toBe('5')
  })

  it('never accepts the token from the query string', async () => {
    const token = await stack.issuer.sign()
    const res = await call(`/orders/1?access_token=${token}`)
    expect(res.status).toBe(401)
  })
})
