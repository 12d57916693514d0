/**
 * Test support: the orders API on a real HTTPS server on 127.0.0.1 with dev-CA certificates, an
 * issuer whose JWK Set is served over HTTPS, and an HTTPS client that presents a chosen client
 * certificate. Not part of the build.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { AuditEvent } from '@gatehouse/audit'
import { type CertificateAuthority, createCertificateAuthority } from '@gatehouse/dev-ca'
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import { createOrdersApi, ORDERS_API_AUDIENCE, type OrdersApi } from '../create-orders-api.js'
import type { OrderStore } from '../orders/store.js'

export const ISSUER = 'https://login.gatehouse.test'
export const GATEWAY_CN = 'gatehouse-gateway'

export interface ClientCertificate {
  readonly cert: string
  readonly key: string
}

export interface TestResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
  json<T = Record<string, unknown>>(): T
}

export interface CallOptions {
  readonly method?: string
  readonly token?: string
  /** Serialised as JSON unless it is already a string. */
  readonly body?: unknown
  readonly headers?: OutgoingHttpHeaders
  /** Default: the gateway's certificate; `null` sends none. */
  readonly client?: ClientCertificate | null
}

export interface OrdersApiFixture {
  readonly api: OrdersApi
  readonly url: string
  readonly ca: CertificateAuthority
  /** Client certificates: the gateway's, one of the same CA with another CN, one of another CA. */
  readonly clients: {
    readonly gateway: ClientCertificate
    readonly otherService: ClientCertificate
    readonly foreignCa: ClientCertificate
  }
  /** Every audit event the API emitted, in order. */
  readonly auditEvents: AuditEvent[]
  /** Signs an RFC 9068 access token; a claim set to `undefined` is removed. */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** Signs with a key the issuer's JWK Set does not hold (same kid). */
  signWithStrangerKey(claims?: Record<string, unknown>): Promise<string>
  call(path: string, options?: CallOptions): Promise<TestResponse>
  close(): Promise<void>
}

export const ALICE = { sub: 'alice', customer_id: 'c-1001', role: 'customer' }
export const BOB = { sub: 'bob', customer_id: 'c-2002', role: 'customer' }
export const ADMIN = { sub: 'ada', role: 'admin' }

export async function startOrdersApi(
  options: { store?: OrderStore } = {},
): Promise<OrdersApiFixture> {
  const ca = await createCertificateAuthority('orders-api test CA')
  const foreignCa = await createCertificateAuthority('a CA the orders API does not trust')
  const [serverCert, gateway, otherService, foreign] = await Promise.all([
    ca.issue({ commonName: 'orders-api', usage: 'server' }),
    ca.issue({ commonName: GATEWAY_CN, usage: 'client' }),
    ca.issue({ commonName: 'reporting-service', usage: 'client' }),
    foreignCa.issue({ commonName: GATEWAY_CN, usage: 'client' }),
  ])

  const kid = `es256-${randomUUID()}`
  const signing = await generateKeyPair('ES256', { extractable: true })
  const stranger = await generateKeyPair('ES256')
  const jwks = {
    keys: [{ ...(await exportJWK(signing.publicKey)), kid, alg: 'ES256', use: 'sig' }],
  }
  const jwksServer = https.createServer(
    { cert: serverCert.cert, key: serverCert.key },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' })
      res.end(JSON.stringify(jwks))
    },
  )
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  const jwksPort = (jwksServer.address() as AddressInfo).port

  const api = await createOrdersApi({
    issuer: ISSUER,
    keys: { jwksUri: `https://127.0.0.1:${jwksPort}/jwks`, ca: ca.cert },
    tls: {
      cert: serverCert.cert,
      key: serverCert.key,
      clientCa: ca.cert,
      allowedClientCommonNames: [GATEWAY_CN],
    },
    ...(options.store === undefined ? {} : { store: options.store }),
  })
  const auditEvents: AuditEvent[] = []
  api.audit.subscribe({ write: (event) => void auditEvents.push(event) })
  const { url } = await api.listen()

  async function signWith(
    privateKey: CryptoKey,
    claims: Record<string, unknown>,
    header: Record<string, unknown>,
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const payload: Record<string, unknown> = {
      iss: ISSUER,
      aud: ORDERS_API_AUDIENCE,
      sub: 'alice',
      client_id: 'orders-web',
      scope: 'orders:read orders:write',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    }
    for (const [name, value] of Object.entries(payload))
      if (value === undefined) delete payload[name]
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header })
      .sign(privateKey)
  }

  function call(path: string, options: CallOptions = {}): Promise<TestResponse> {
    const client = options.client === undefined ? gateway : options.client
    const headers: OutgoingHttpHeaders = { ...options.headers }
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    let body: string | undefined
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
      headers['content-type'] ??= 'application/json'
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, url),
        {
          method: options.method ?? 'GET',
          headers,
          ca: ca.cert,
          agent: false,
          ...(client === null ? {} : { cert: client.cert, key: client.key }),
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', reject)
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              json: () => JSON.parse(text),
            })
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  return {
    api,
    url,
    ca,
    clients: { gateway, otherService, foreignCa: foreign },
    auditEvents,
    sign: (claims = {}, header = {}) =>
      signWith(signing.privateKey, { ...ALICE, ...claims }, header),
    signWithStrangerKey: (claims = {}) =>
      signWith(stranger.privateKey, { ...ALICE, ...claims }, {}),
    call,
    async close() {
      await api.close()
      await new Promise<void>((resolve) => jwksServer.close(() => resolve()))
    },
  }
}
