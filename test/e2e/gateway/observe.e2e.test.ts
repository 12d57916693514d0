import { createHash } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from './support/https-client.js'
import { type GatewayStack, startGatewayStack } from './support/start-gateway.js'

let stack: GatewayStack

beforeAll(async () => {
  stack = await startGatewayStack()
})
afterAll(async () => {
  await stack?.close()
})

function fetchMetrics(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/metrics`, (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        res.on('end', () => resolve(text))
      })
      .on('error', reject)
  })
}

describe('observe', () => {
  it('writes exactly one access-log line per request, with the token hash and never the token or cookie', async () => {
    const token = await stack.issuer.sign({ jti: 'jti-log-1' })
    const res = await request(`${stack.url}/orders/5?secret=query-value`, stack.ca, {
      headers: { authorization: `Bearer ${token}`, cookie: 'session=cookie-value' },
    })
    const requestId = res.headers['x-request-id']
    const lines = stack.logs.filter((line) => line.requestId === requestId)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      routeId: 'orders',
      method: 'GET',
      path: '/orders/5',
      status: 200,
      reason: 'forwarded',
      subject: 'alice',
      clientId: 'orders-app',
      clientIp: '127.0.0.1',
      tokenHash: createHash('sha256').update(token).digest('hex').slice(0, 8),
    })
    expect(typeof lines[0]?.durationMs).toBe('number')
    const everything = stack.rawLogs.join('\n')
    expect(everything).not.toContain(token)
    expect(everything).not.toContain(token.split('.')[2])
    expect(everything).not.toContain('cookie-value')
    expect(everything).not.toContain('query-value')
  })

  it('logs refused requests too, with their reason code', async () => {
    const res = await request(`${stack.url}/orders/5`, stack.ca, {
      headers: { authorization: 'Bearer nope' },
    })
    const line = stack.logs.find((entry) => entry.requestId === res.headers['x-request-id'])
    expect(line).toMatchObject({ status: 401, reason: 'jwt.malformed', routeId: 'orders' })
  })

  it('emits access.denied audit events joined by jti and request id', async () => {
    const token = await stack.issuer.sign({ jti: 'jti-denied-1', scope: 'orders:read' })
    const res = await request(`${stack.url}/admin/x`, stack.ca, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(403)
    const event = stack.auditEvents.find((e) => e.tokenId === 'jti-denied-1')
    expect(event).toMatchObject({
      type: 'access.denied',
      component: 'gateway',
      outcome: 'denied',
      reason: 'scope.insufficient',
      requestId: res.headers['x-request-id'],
      subject: 'alice',
      clientId: 'orders-app',
    })
    expect(JSON.stringify(event)).not.toContain(token)
  })

  it('serves Prometheus metrics on the separate admin port only', async () => {
    await request(`${stack.url}/public/x`, stack.ca)
    const text = await fetchMetrics(stack.adminUrl)
    expect(text).toMatch(
      /gatehouse_gateway_requests_total\{route="public",status="200",client=""\} \d+/,
    )
    expect(text).toMatch(
      /gatehouse_gateway_auth_rejections_total\{route="orders",reason="jwt.malformed"\} \d+/,
    )
    expect(text).toMatch(
      /gatehouse_gateway_request_duration_seconds_bucket\{le="0.005",route="public"\}/,
    )
    const onPublicPort = await request(`${stack.url}/metrics`, stack.ca)
    expect(onPublicPort.status).toBe(404)
  })
})
