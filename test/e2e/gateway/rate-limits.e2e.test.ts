import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EchoedRequest } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import { type GatewayStack, startGatewayStack } from './support/start-gateway.js'

describe('rate limits and block list, peer not a trusted proxy', () => {
  let stack: GatewayStack
  beforeAll(async () => {
    stack = await startGatewayStack((config) => {
      config.blockList = { clientIds: ['blocked-app'], subjects: ['mallory'] }
    })
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('answers 429 with Retry-After and RateLimit fields once the per-client bucket is empty', async () => {
    const token = await stack.issuer.sign({ client_id: 'bursty' })
    const statuses: number[] = []
    let last: Awaited<ReturnType<typeof request>> | undefined
    for (let i = 0; i < 4; i++) {
      last = await request(`${stack.url}/limited/x`, stack.ca, {
        headers: { authorization: `Bearer ${token}` },
      })
      statuses.push(last.status)
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    expect(last?.headers['retry-after']).toMatch(/^\d+$/)
    expect(Number(last?.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(last?.headers['ratelimit-policy']).toBe('"per-client";q=3;w=60')
    expect(last?.headers.ratelimit).toMatch(/^"per-client";r=0;t=\d+$/)
    expect(last?.headers['content-type']).toBe('application/problem+json')
    const event = stack.auditEvents.find((e) => e.type === 'rate.limited')
    expect(event).toMatchObject({
      component: 'gateway',
      clientId: 'bursty',
      reason: 'rate.limited',
    })
  })

  it('keeps buckets per client: another client is not affected', async () => {
    const token = await stack.issuer.sign({ client_id: 'calm' })
    const res = await request(`${stack.url}/limited/x`, stack.ca, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(200)
  })

  it('ignores X-Forwarded-For and Forwarded from an untrusted peer: spoofing does not dodge the IP limit', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await request(`${stack.url}/ip-limited/x`, stack.ca, {
        headers: { 'x-forwarded-for': `198.51.100.${i}`, forwarded: `for=198.51.100.${i}` },
      })
      statuses.push(res.status)
    }
    expect(statuses).toEqual([200, 200, 429, 429, 429])
  })

  it('refuses a blocked client id and a blocked subject with 403 before any upstream call', async () => {
    const before = stack.upstream.received.length
    const byClient = await request(`${stack.url}/orders/1`, stack.ca, {
      headers: { authorization: `Bearer ${await stack.issuer.sign({ client_id: 'blocked-app' })}` },
    })
    const bySubject = await request(`${stack.url}/orders/1`, stack.ca, {
      headers: { authorization: `Bearer ${await stack.issuer.sign({ sub: 'mallory' })}` },
    })
    expect([byClient.status, bySubject.status]).toEqual([403, 403])
    expect(byClient.headers['content-type']).toBe('application/problem+json')
    expect(stack.upstream.received.length).toBe(before)
    expect(
      stack.auditEvents.filter((e) => e.type === 'client.blocked').map((e) => e.reason),
    ).toEqual(['block.client', 'block.subject'])
  })
})

describe('behind a trusted proxy', () => {
  let stack: GatewayStack
  beforeAll(async () => {
    stack = await startGatewayStack((config) => {
      config.trustedProxies = ['127.0.0.1', '10.0.0.0/8']
      config.blockList = { ips: ['203.0.113.0/24'] }
    })
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('takes the client IP from the first untrusted hop of X-Forwarded-For, counting per client IP', async () => {
    const statuses: number[] = []
    for (const ip of ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.2']) {
      const res = await request(`${stack.url}/ip-limited/x`, stack.ca, {
        // The client prepends a forged hop; only the hop the trusted proxy (10.1.1.1) saw counts.
        headers: { 'x-forwarded-for': `1.2.3.4, ${ip}, 10.1.1.1` },
      })
      statuses.push(res.status)
    }
    expect(statuses).toEqual([200, 200, 429, 200])
  })

  it('forwards the resolved client IP and keeps the trusted proxy request id', async () => {
    const res = await request(`${stack.url}/public/x`, stack.ca, {
      headers: { forwarded: 'for=198.51.100.9;proto=https', 'x-request-id': 'edge-123' },
    })
    const echoed = res.json<EchoedRequest>()
    expect(echoed.headers['x-forwarded-for']).toBe('198.51.100.9')
    expect(echoed.headers['x-request-id']).toBe('edge-123')
  })

  it('blocks a listed CIDR with 403 before authentication (no 401, no upstream)', async () => {
    const before = stack.upstream.received.length
    const res = await request(`${stack.url}/orders/1`, stack.ca, {
      headers: { 'x-forwarded-for': '203.0.113.77' },
    })
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toBeUndefined()
    expect(stack.upstream.received.length).toBe(before)
  })
})
