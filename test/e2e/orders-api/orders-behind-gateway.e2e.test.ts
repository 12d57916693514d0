/**
 * The orders API behind the real Gatehouse gateway, over HTTPS and mTLS on loopback: the API
 * re-verifies what the gateway let through, and a customer walking other customers' order ids is
 * answered with 404s that the gateway's enumeration detector counts, flags and blocks — with the
 * API's `access.denied` events joined to the gateway's request ids and the token's jti.
 */
import { randomUUID } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { type AuditEvent, createAuditBus } from '@gatehouse/audit'
import { type CertificateAuthority, createCertificateAuthority } from '@gatehouse/dev-ca'
import { createOrdersApi, type OrdersApi } from '@gatehouse/example-orders-api'
import { createGateway, type Gateway, loadGatewayConfig } from '@gatehouse/gateway'
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const AUDIENCE = 'urn:gatehouse:api:orders'

let ca: CertificateAuthority
let jwksServer: https.Server
let ordersApi: OrdersApi
let gateway: Gateway
let gatewayUrl: string
let issuer: string
let sign: (claims: Record<string, unknown>) => Promise<string>
const apiEvents: AuditEvent[] = []
const gatewayEvents: AuditEvent[] = []
const gatewayLogs: Record<string, unknown>[] = []

beforeAll(async () => {
  ca = await createCertificateAuthority('orders e2e CA')
  const [server, gatewayClient] = await Promise.all([
    ca.issue({ commonName: 'localhost', usage: 'server' }),
    ca.issue({ commonName: 'gatehouse-gateway', usage: 'client' }),
  ])

  const kid = `es256-${randomUUID()}`
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }
  jwksServer = https.createServer({ cert: server.cert, key: server.key }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(jwks))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  const jwksUri = `https://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`
  issuer = 'https://login.gatehouse.test'
  sign = (claims) => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({
      iss: issuer,
      aud: AUDIENCE,
      scope: 'orders:read orders:write',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    } as JWTPayload)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .sign(privateKey)
  }

  const apiAudit = createAuditBus()
  apiAudit.subscribe({ write: (event) => void apiEvents.push(event) })
  ordersApi = await createOrdersApi({
    issuer,
    keys: { jwksUri, ca: ca.cert },
    tls: {
      cert: server.cert,
      key: server.key,
      clientCa: ca.cert,
      allowedClientCommonNames: ['gatehouse-gateway'],
    },
    audit: apiAudit,
  })
  const { port } = await ordersApi.listen()

  const gatewayAudit = createAuditBus()
  gatewayAudit.subscribe({ write: (event) => void gatewayEvents.push(event) })
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void gatewayLogs.push(JSON.parse(line) as Record<string, unknown>) },
  )
  const jwtAuth = { method: 'jwt' as const, issuer: 'local', audience: AUDIENCE }
  const config = {
    listen: {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: { pem: server.cert }, key: { env: 'GATEWAY_TLS_KEY' } },
    },
    issuers: { local: { issuer, jwksUri, ca: { pem: ca.cert } } },
    upstreams: {
      orders: {
        url: `https://localhost:${port}`,
        ca: { pem: ca.cert },
        clientCertificate: {
          cert: { pem: gatewayClient.cert },
          key: { env: 'GATEWAY_CLIENT_KEY' },
        },
      },
    },
    routes: [
      {
        id: 'orders',
        match: { path: '/orders/**', methods: ['GET', 'POST', 'PATCH', 'DELETE'] },
        upstream: 'orders',
        auth: jwtAuth,
        scopes: {
          GET: ['orders:read'],
          POST: ['orders:write'],
          PATCH: ['orders:write'],
          DELETE: ['orders:write'],
        },
      },
      {
        // A mistake on purpose: the orders API published without authentication at the gateway.
        id: 'orders-mistakenly-public',
        match: { path: '/open/**', methods: ['GET'] },
        upstream: 'orders',
        auth: { method: 'public' as const },
        rewrite: { stripPrefix: '/open' },
      },
    ],
    abuse: { enumeration: { windowSeconds: 60, threshold: 5, blockSeconds: 300 } },
  }
  gateway = createGateway(
    loadGatewayConfig(config, {
      env: { GATEWAY_TLS_KEY: server.key, GATEWAY_CLIENT_KEY: gatewayClient.key },
    }),
    { logger, audit: gatewayAudit },
  )
  gatewayUrl = (await gateway.listen()).url
})

afterAll(async () => {
  await gateway?.close()
  await ordersApi?.close()
  await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()))
})

function get(path: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, gatewayUrl),
      {
        ca: ca.cert,
        agent: false,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const ALICE = { sub: 'alice', customer_id: 'c-1001', role: 'customer' }

describe('the orders API behind the gateway', () => {
  it('serves a customer her own order through the gateway, without internal fields', async () => {
    const res = await get('/orders/ord-000001', await sign({ ...ALICE, client_id: 'shop-web' }))
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toMatchObject({ id: 'ord-000001', customerId: 'c-1001' })
    expect(res.text).not.toContain('fraudScore')
  })

  it('still refuses a request the gateway lets through unauthenticated (a route made public by mistake)', async () => {
    const token = await sign({ ...ALICE, client_id: 'shop-web' })
    const res = await get('/open/orders/ord-000001', token)
    // The gateway strips the client's Authorization on a public route; the API wants a token.
    expect(res.status).toBe(401)
    expect(res.text).not.toContain('c-1001')
  })

  it('answers a walk through other customers ids with 404s that the gateway flags and blocks', async () => {
    const jti = randomUUID()
    const token = await sign({ ...ALICE, client_id: 'walker-app', jti })
    const statuses: number[] = []
    for (let n = 3; n <= 9; n++) {
      statuses.push((await get(`/orders/ord-${String(n).padStart(6, '0')}`, token)).status)
    }
    // Five distinct ids refused (two of bob's orders, three missing) trip the detector; then the
    // gateway blocks the client before the API is asked again.
    expect(statuses).toEqual([404, 404, 404, 404, 404, 403, 403])
    expect(gatewayEvents.find((event) => event.type === 'abuse.detected')).toMatchObject({
      reason: 'abuse.enumeration',
      clientId: 'walker-app',
    })

    // The API's denials join the gateway's trail: same request ids, same token id.
    const denied = apiEvents.filter((event) => event.tokenId === jti)
    expect(denied.map((event) => event.details?.orderId)).toEqual(['ord-000003', 'ord-000004'])
    const gatewayRequestIds = new Set(gatewayLogs.map((line) => line.requestId))
    for (const event of denied) {
      expect(event).toMatchObject({
        type: 'access.denied',
        reason: 'policy.denied',
        subject: 'alice',
      })
      expect(gatewayRequestIds.has(event.requestId)).toBe(true)
    }
  })
})
