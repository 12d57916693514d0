import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EchoedRequest } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import { type GatewayStack, ORDERS_API, startGatewayStack } from './support/start-gateway.js'

let stack: GatewayStack

beforeAll(async () => {
  stack = await startGatewayStack((config) => {
    config.routes.unshift({
      id: 'phantom-limited',
      match: { path: '/phantom-limited/**', methods: ['GET'] },
      upstream: 'echo',
      auth: { method: 'phantom', issuer: 'local', audience: ORDERS_API },
      rateLimits: [{ name: 'per-ip', key: 'ip', limit: 2, windowSeconds: 60 }],
    })
  })
})
afterAll(async () => {
  await stack?.close()
})

const call = (path: string, token: string) =>
  request(`${stack.url}${path}`, stack.ca, { headers: { authorization: `Bearer ${token}` } })

describe('phantom route (opaque token outside, JWT inside)', () => {
  it('introspects once, forwards the JWT form, and serves repeats from the cache', async () => {
    const opaque = stack.issuer.issueOpaque({ sub: 'bob', client_id: 'partner-app' })
    const calls = stack.issuer.introspection.calls
    const first = await call('/phantom/orders/1', opaque)
    expect(first.status).toBe(200)
    const forwarded = first.json<EchoedRequest>().headers.authorization ?? ''
    expect(forwarded).toMatch(/^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(forwarded).not.toContain(opaque)
    const second = await call('/phantom/orders/2', opaque)
    expect(second.json<EchoedRequest>().headers.authorization).toBe(forwarded)
    expect(stack.issuer.introspection.calls).toBe(calls + 1)
  })

  it('coalesces concurrent lookups of one token into one introspection', async () => {
    const opaque = stack.issuer.issueOpaque()
    const calls = stack.issuer.introspection.calls
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('/phantom/orders/1', opaque)),
    )
    expect(answers.map((res) => res.status)).toEqual(Array(8).fill(200))
    expect(stack.issuer.introspection.calls).toBe(calls + 1)
  })

  it('refuses an unknown or inactive token with 401 and keeps a short negative entry', async () => {
    const calls = stack.issuer.introspection.calls
    const unknown = 'x'.repeat(43)
    const first = await call('/phantom/orders/1', unknown)
    const again = await call('/phantom/orders/1', unknown)
    expect([first.status, again.status]).toEqual([401, 401])
    expect(first.headers['www-authenticate']).toMatch(
      /^Bearer realm="gatehouse", error="invalid_token"/,
    )
    expect(stack.issuer.introspection.calls).toBe(calls + 1)
  })

  it('refuses a JWT presented on a phantom route (methods are never mixed), without introspecting', async () => {
    const calls = stack.issuer.introspection.calls
    const res = await call('/phantom/orders/1', await stack.issuer.sign())
    expect(res.status).toBe(401)
    expect(stack.issuer.introspection.calls).toBe(calls)
    const line = stack.logs.find((entry) => entry.requestId === res.headers['x-request-id'])
    expect(line?.reason).toBe('phantom.jwt_presented')
  })

  it('re-checks scope and audience on every cache hit', async () => {
    const reader = stack.issuer.issueOpaque({ scope: 'profile' })
    expect((await call('/phantom/orders/1', reader)).status).toBe(403)
    const orders = stack.issuer.issueOpaque()
    expect((await call('/phantom/orders/1', orders)).status).toBe(200)
    // Cached for the orders API; the billing API must not accept it from the cache.
    expect((await call('/phantom/billing/1', orders)).status).toBe(401)
  })

  it('evicts the cached JWT at once on a revocation event (by token hash)', async () => {
    const opaque = stack.issuer.issueOpaque()
    expect((await call('/phantom/orders/1', opaque)).status).toBe(200)
    stack.issuer.revokeOpaque(opaque)
    // Still cached: the gateway has not heard of the revocation yet.
    expect((await call('/phantom/orders/1', opaque)).status).toBe(200)
    await stack.gateway.state.revocations.publish({
      tokenHash: createHash('sha256').update(opaque).digest('base64url'),
    })
    expect((await call('/phantom/orders/1', opaque)).status).toBe(401)
  })

  it('evicts by jti too', async () => {
    const opaque = stack.issuer.issueOpaque({ jti: 'phantom-jti-1' })
    expect((await call('/phantom/orders/1', opaque)).status).toBe(200)
    stack.issuer.revokeOpaque(opaque)
    await stack.gateway.state.revocations.publish({ tokenId: 'phantom-jti-1' })
    expect((await call('/phantom/orders/1', opaque)).status).toBe(401)
  })

  it('stops a flood of made-up tokens at the address limit, before it reaches the authorization server', async () => {
    const calls = stack.issuer.introspection.calls
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push((await call('/phantom-limited/1', `made-up-${i}-${'x'.repeat(30)}`)).status)
    expect(statuses).toEqual([401, 401, 429, 429, 429])
    expect(stack.issuer.introspection.calls).toBe(calls + 2)
  })

  it.each([
    ['answers 5xx', 'error'],
    ['is slower than the introspection timeout', 'slow'],
  ] as const)(
    'answers 503 problem+json (not 401) when the authorization server %s, and counts it',
    async (_name, mode) => {
      const opaque = stack.issuer.issueOpaque()
      stack.issuer.introspection.mode = mode
      try {
        const res = await call('/phantom/orders/1', opaque)
        expect(res.status).toBe(503)
        expect(res.headers['content-type']).toBe('application/problem+json')
        expect(res.headers['www-authenticate']).toBeUndefined()
        expect(res.headers['retry-after']).toBe('5')
      } finally {
        stack.issuer.introspection.mode = 'ok'
      }
      const metrics = await stack.gateway.metrics.registry.getSingleMetricAsString(
        'gatehouse_gateway_introspection_failures_total',
      )
      expect(metrics).toMatch(/issuer="local"\} [1-9]/)
    },
  )
})

describe('split route (signature outside, header and payload in shared state)', () => {
  it('rebuilds the JWT from the shared state and forwards it', async () => {
    const jwt = await stack.issuer.sign({ sub: 'carol' })
    const [header, payload, signature] = jwt.split('.') as [string, string, string]
    await stack.gateway.state.splitTokens.put(
      createHash('sha256').update(signature).digest('base64url'),
      `${header}.${payload}`,
      300,
    )
    const res = await call('/split/orders/1', signature)
    expect(res.status).toBe(200)
    expect(res.json<EchoedRequest>().headers.authorization).toBe(`Bearer ${jwt}`)
    // Revoked: refused at once, although the entry and the verified-token cache still hold it.
    await stack.gateway.state.revocations.publish({
      tokenHash: createHash('sha256').update(signature).digest('base64url'),
    })
    const after = await call('/split/orders/1', signature)
    expect(after.status).toBe(401)
    expect(
      stack.logs.find((line) => line.requestId === after.headers['x-request-id'])?.reason,
    ).toBe('split.revoked')
  })

  it('refuses an unknown signature, a full JWT, and a signature stitched onto another payload', async () => {
    expect((await call('/split/orders/1', 'A'.repeat(86))).status).toBe(401)
    expect((await call('/split/orders/1', await stack.issuer.sign())).status).toBe(401)
    const genuine = await stack.issuer.sign({ scope: 'orders:read' })
    const forged = await stack.issuer.sign({ scope: 'orders:read admin' })
    const [h, p] = forged.split('.') as [string, string, string]
    const signature = genuine.split('.')[2] as string
    // State tampered: the stored header.payload does not belong to this signature.
    await stack.gateway.state.splitTokens.put(
      createHash('sha256').update(signature).digest('base64url'),
      `${h}.${p}`,
      300,
    )
    const res = await call('/split/orders/1', signature)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/)
  })
})
