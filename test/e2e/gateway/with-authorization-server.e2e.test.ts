import { connectRevocationSource, createMemoryState } from '@gatehouse/gateway'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'
import type { EchoedRequest } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import { type GatewayStack, ORDERS_API, startGatewayStack } from './support/start-gateway.js'

let as: StartedAuthorizationServer
let stack: GatewayStack
let disconnect: () => void

/**
 * The gateway in front of the echo upstream, with the real Gatehouse authorization server as its
 * issuer: opaque tokens from client_credentials go through the phantom route, JWT-format tokens
 * through the jwt route, and RFC 7009 revocation reaches the gateway over the embedded-mode
 * channel (the server's revocation bus wired to the gateway's state, one process).
 */
beforeAll(async () => {
  as = await startAuthorizationServer({
    clients: [
      {
        clientId: 'external',
        name: 'External partner',
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
      {
        clientId: 'internal',
        name: 'Internal service',
        tokenFormat: 'jwt',
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
      {
        clientId: 'splitter',
        name: 'Split-token client',
        tokenFormat: 'split',
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
      { clientId: 'gateway', name: 'Gateway', scopes: [], audiences: [ORDERS_API] },
    ],
  })
  const issuer = {
    issuer: as.issuer,
    jwksUri: `${as.issuer}/jwks`,
    ca: { pem: as.ca.cert },
    algorithms: ['ES256' as const],
  }
  stack = await startGatewayStack(
    (config) => {
      config.issuers = {
        ...config.issuers,
        as: {
          ...issuer,
          introspection: {
            endpoint: `${as.issuer}/introspect`,
            clientId: 'gateway',
            clientSecret: { env: 'AS_GATEWAY_SECRET' },
          },
        },
        'as-wrong-secret': {
          ...issuer,
          introspection: {
            endpoint: `${as.issuer}/introspect`,
            clientId: 'gateway',
            clientSecret: { env: 'AS_WRONG_SECRET' },
          },
        },
      }
      config.routes = [
        {
          id: 'as-phantom',
          match: { path: '/as/phantom/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'phantom', issuer: 'as', audience: ORDERS_API },
          scopes: { GET: ['orders:read'] },
        },
        {
          id: 'as-jwt',
          match: { path: '/as/jwt/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'jwt', issuer: 'as', audience: ORDERS_API },
          scopes: { GET: ['orders:read'] },
        },
        {
          id: 'as-split',
          match: { path: '/as/split/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'split', issuer: 'as', audience: ORDERS_API },
          scopes: { GET: ['orders:read'] },
        },
        {
          id: 'as-phantom-misconfigured',
          match: { path: '/as/misconfigured/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'phantom', issuer: 'as-wrong-secret', audience: ORDERS_API },
        },
        ...config.routes,
      ]
    },
    {
      AS_GATEWAY_SECRET: as.clientSecrets.get('gateway') ?? '',
      AS_WRONG_SECRET: 'not-the-secret',
    },
    // Embedded mode: the gateway reads split tokens from the store the server writes them to.
    { ...createMemoryState(), splitTokens: as.server.splitTokens },
  )
  disconnect = connectRevocationSource(as.server.events.revocations, stack.gateway.state)
})

afterAll(async () => {
  disconnect?.()
  await stack?.close()
  await as?.close()
})

function basic(clientId: string): string {
  return `Basic ${Buffer.from(`${clientId}:${as.clientSecrets.get(clientId) ?? ''}`).toString('base64')}`
}

async function clientCredentials(clientId: string): Promise<string> {
  const response = await as.fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: basic(clientId),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=orders%3Aread',
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

const call = (path: string, token: string) =>
  request(`${stack.url}${path}`, stack.ca, { headers: { authorization: `Bearer ${token}` } })

describe('gateway with the real authorization server', () => {
  it('swaps an opaque token for its JWT form on a phantom route', async () => {
    const opaque = await clientCredentials('external')
    expect(opaque).not.toMatch(/^eyJ/)
    const res = await call('/as/phantom/orders/1', opaque)
    expect(res.status).toBe(200)
    const forwarded = (res.json<EchoedRequest>().headers.authorization ?? '').replace(
      /^Bearer /,
      '',
    )
    expect(decodeJwt(forwarded)).toMatchObject({
      iss: as.issuer,
      client_id: 'external',
      aud: ORDERS_API,
    })
  })

  it('accepts a JWT-format token on the jwt route and refuses it on the phantom route', async () => {
    const jwt = await clientCredentials('internal')
    expect((await call('/as/jwt/orders/1', jwt)).status).toBe(200)
    expect((await call('/as/phantom/orders/1', jwt)).status).toBe(401)
  })

  it('stops honouring a revoked JWT-format token before its exp (revocation names its jti)', async () => {
    const jwt = await clientCredentials('internal')
    expect((await call('/as/jwt/orders/1', jwt)).status).toBe(200)
    const revoked = await as.fetch(`${as.issuer}/revoke`, {
      method: 'POST',
      headers: {
        authorization: basic('internal'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `token=${encodeURIComponent(jwt)}`,
    })
    expect(revoked.status).toBe(200)
    const res = await call('/as/jwt/orders/1', jwt)
    expect(res.status).toBe(401)
    expect(stack.logs.find((line) => line.requestId === res.headers['x-request-id'])?.reason).toBe(
      'jwt.revoked',
    )
  })

  it('stops honouring a token as soon as it is revoked at the authorization server (RFC 7009)', async () => {
    const opaque = await clientCredentials('external')
    expect((await call('/as/phantom/orders/1', opaque)).status).toBe(200)
    const revoked = await as.fetch(`${as.issuer}/revoke`, {
      method: 'POST',
      headers: {
        authorization: basic('external'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `token=${encodeURIComponent(opaque)}`,
    })
    expect(revoked.status).toBe(200)
    const res = await call('/as/phantom/orders/1', opaque)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/)
  })

  it('rebuilds a split token (the client holds only the signature), and drops it once revoked', async () => {
    const signature = await clientCredentials('splitter')
    expect(signature).not.toContain('.')
    const res = await call('/as/split/orders/1', signature)
    expect(res.status).toBe(200)
    const forwarded = (res.json<EchoedRequest>().headers.authorization ?? '').replace(
      /^Bearer /,
      '',
    )
    expect(forwarded.endsWith(`.${signature}`)).toBe(true)
    expect(decodeJwt(forwarded)).toMatchObject({ iss: as.issuer, client_id: 'splitter' })
    const revoked = await as.fetch(`${as.issuer}/revoke`, {
      method: 'POST',
      headers: {
        authorization: basic('splitter'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `token=${encodeURIComponent(signature)}`,
    })
    expect(revoked.status).toBe(200)
    expect((await call('/as/split/orders/1', signature)).status).toBe(401)
  })

  it('answers 503, not 401, when the authorization server refuses the gateway own credentials', async () => {
    const opaque = await clientCredentials('external')
    const res = await call('/as/misconfigured/orders/1', opaque)
    expect(res.status).toBe(503)
    expect(res.headers['content-type']).toBe('application/problem+json')
  })
})
