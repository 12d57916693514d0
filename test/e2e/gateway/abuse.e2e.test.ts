import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from './support/https-client.js'
import { type GatewayStack, startGatewayStack } from './support/start-gateway.js'

let stack: GatewayStack

beforeAll(async () => {
  stack = await startGatewayStack((config) => {
    config.abuse = {
      enumeration: { windowSeconds: 60, threshold: 6, blockSeconds: 300 },
      clientsPerIp: { windowSeconds: 60, threshold: 4, blockSeconds: 0 },
      unexpectedParams: { windowSeconds: 60, threshold: 3, blockSeconds: 0 },
    }
    config.routes.unshift(
      {
        id: 'search',
        match: { path: '/search', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
        queryParams: { allow: ['q', 'page'] },
      },
      {
        id: 'strict-search',
        match: { path: '/strict-search', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
        queryParams: { allow: ['q'], refuseUnexpected: true },
      },
    )
  })
})
afterAll(async () => {
  await stack?.close()
})

describe('abuse detectors on live traffic', () => {
  it('catches a scripted walk through order ids answered 404/403, alerts, and blocks the client', async () => {
    const token = await stack.issuer.sign({ client_id: 'walker', sub: 'eve' })
    const statuses: number[] = []
    for (let id = 100; id < 108; id++) {
      const res = await request(
        `${stack.url}/orders/${id}/status/${id % 2 === 0 ? 404 : 403}`,
        stack.ca,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      )
      statuses.push(res.status)
    }
    // Six distinct objects refused trip the detector; from then on the client is blocked (403).
    expect(statuses.slice(0, 6)).toEqual([404, 403, 404, 403, 404, 403])
    expect(statuses.slice(6)).toEqual([403, 403])
    const alert = stack.auditEvents.find((event) => event.type === 'abuse.detected')
    expect(alert).toMatchObject({ reason: 'abuse.enumeration', clientId: 'walker', subject: 'eve' })
    const blocked = stack.logs.filter((line) => line.reason === 'block.abuse')
    expect(blocked).toHaveLength(2)
    const other = await stack.issuer.sign({ client_id: 'bystander' })
    expect(
      (
        await request(`${stack.url}/orders/1`, stack.ca, {
          headers: { authorization: `Bearer ${other}` },
        })
      ).status,
    ).toBe(200)
  })

  it('alerts on repeated query parameters the route does not take, and can refuse them', async () => {
    expect((await request(`${stack.url}/search?q=a&page=2`, stack.ca)).status).toBe(200)
    expect(stack.auditEvents.some((event) => event.reason === 'abuse.unexpected_params')).toBe(
      false,
    )
    for (const probe of ['admin=true', 'debug=1', 'role=admin']) {
      expect((await request(`${stack.url}/search?q=a&${probe}`, stack.ca)).status).toBe(200)
    }
    expect(
      stack.auditEvents.find((event) => event.reason === 'abuse.unexpected_params'),
    ).toMatchObject({
      type: 'abuse.detected',
      ip: '127.0.0.1',
    })
    const before = stack.upstream.received.length
    const refused = await request(`${stack.url}/strict-search?q=a&admin=true`, stack.ca)
    expect(refused.status).toBe(400)
    expect(refused.headers['content-type']).toBe('application/problem+json')
    expect(stack.upstream.received.length).toBe(before)
    expect((await request(`${stack.url}/strict-search?q=a`, stack.ca)).status).toBe(200)
  })

  it('alerts on many client ids from one address', async () => {
    for (const clientId of ['c1', 'c2', 'c3', 'c4']) {
      const token = await stack.issuer.sign({ client_id: clientId })
      await request(`${stack.url}/orders/1`, stack.ca, {
        headers: { authorization: `Bearer ${token}` },
      })
    }
    const alert = stack.auditEvents.find((event) => event.reason === 'abuse.clients_per_ip')
    expect(alert).toMatchObject({ type: 'abuse.detected', ip: '127.0.0.1' })
    const metrics = await stack.gateway.metrics.registry.getSingleMetricAsString(
      'gatehouse_gateway_abuse_alerts_total',
    )
    expect(metrics).toMatch(/detector="clients_per_ip"\} 1/)
  })
})
