import { createHash, randomBytes } from 'node:crypto'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EchoedRequest } from '../gateway/support/echo-upstream.js'
import { request } from '../gateway/support/https-client.js'
import { createBrowser } from '../support/browser.js'
import { distributedServicesAvailable, eventually, redisUrl } from './support/services.js'
import {
  type DistributedStack,
  ORDERS_API,
  startDistributedStack,
} from './support/start-distributed-stack.js'

const available = await distributedServicesAvailable('the distributed e2e tests')
const REDIRECT = 'http://127.0.0.1:53682/callback'
const PASSWORD = 'correct horse battery staple'
const SHARED_LIMIT = 20

/**
 * Two authorization servers on one PostgreSQL, two gateways on one Redis: revocation, split
 * tokens, rate limits and refresh-token reuse hold across instances, not just inside one.
 */
describe.skipIf(!available)('distributed mode: two authorization servers, two gateways', () => {
  let stack: DistributedStack
  beforeAll(async () => {
    stack = await startDistributedStack({
      redisUrl,
      clients: [
        { clientId: 'gateway', name: 'Gateway', scopes: [], audiences: [ORDERS_API] },
        { clientId: 'partner', name: 'Partner', scopes: ['orders:read'], audiences: [ORDERS_API] },
        {
          clientId: 'splitter',
          name: 'Split-token client',
          tokenFormat: 'split',
          scopes: ['orders:read'],
          audiences: [ORDERS_API],
        },
        {
          clientId: 'spa',
          name: 'Orders SPA',
          tokenEndpointAuthMethod: 'none',
          grantTypes: ['authorization_code', 'refresh_token'],
          redirectUris: [REDIRECT],
          scopes: ['openid', 'orders:read'],
          audiences: [ORDERS_API],
          firstParty: true,
        },
      ],
      users: [{ username: 'carol', password: PASSWORD, claims: { customer_id: 'cust-7' } }],
      routes: [
        {
          id: 'phantom',
          match: { path: '/phantom/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'phantom', issuer: 'as', audience: ORDERS_API },
          scopes: { GET: ['orders:read'] },
        },
        {
          id: 'split',
          match: { path: '/split/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'split', issuer: 'as', audience: ORDERS_API },
          scopes: { GET: ['orders:read'] },
        },
        {
          id: 'limited',
          match: { path: '/limited/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'public' },
          rateLimits: [{ name: 'shared', key: 'route', limit: SHARED_LIMIT, windowSeconds: 3_600 }],
        },
      ],
    })
  })
  afterAll(async () => {
    await stack?.close()
  })

  const basic = (clientId: string) =>
    `Basic ${Buffer.from(`${clientId}:${stack.clientSecrets.get(clientId) ?? ''}`).toString('base64')}`

  async function post(base: string, path: string, body: string, authorization?: string) {
    return stack.fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body,
    })
  }

  async function clientCredentials(clientId: string, at: string): Promise<string> {
    const response = await post(
      at,
      '/token',
      'grant_type=client_credentials&scope=orders%3Aread',
      basic(clientId),
    )
    expect(response.status).toBe(200)
    return ((await response.json()) as { access_token: string }).access_token
  }

  const call = (gateway: string, path: string, token: string) =>
    request(`${gateway}${path}`, stack.pki.ca.cert, {
      headers: { authorization: `Bearer ${token}` },
    })

  it('stops a token revoked at authorization server A at gateway B within one second', async () => {
    const [asA] = stack.authorizationServers
    const [gatewayA, gatewayB] = stack.gateways
    const opaque = await clientCredentials('partner', asA.url)
    // Both gateways have the JWT cached (B in its local copy as well as in Redis).
    expect((await call(gatewayA.url, '/phantom/orders/1', opaque)).status).toBe(200)
    expect((await call(gatewayB.url, '/phantom/orders/1', opaque)).status).toBe(200)
    expect((await call(gatewayB.url, '/phantom/orders/2', opaque)).status).toBe(200)

    const revoked = await post(
      asA.url,
      '/revoke',
      `token=${encodeURIComponent(opaque)}`,
      basic('partner'),
    )
    expect(revoked.status).toBe(200)
    const elapsed = await eventually(
      async () => (await call(gatewayB.url, '/phantom/orders/1', opaque)).status === 401,
      1_000,
    )
    expect(elapsed).toBeLessThan(1_000)
    const res = await call(gatewayA.url, '/phantom/orders/1', opaque)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/)
  })

  it('serves a split token issued at authorization server A through gateway B', async () => {
    const [asA] = stack.authorizationServers
    const [, gatewayB] = stack.gateways
    const signature = await clientCredentials('splitter', asA.url)
    expect(signature).not.toContain('.')
    const res = await call(gatewayB.url, '/split/orders/1', signature)
    expect(res.status).toBe(200)
    const forwarded = (res.json<EchoedRequest>().headers.authorization ?? '').replace(
      /^Bearer /,
      '',
    )
    expect(forwarded.endsWith(`.${signature}`)).toBe(true)
    expect(decodeJwt(forwarded)).toMatchObject({ iss: stack.issuer, client_id: 'splitter' })
    // A forged signature finds no entry.
    const forged = `${signature.slice(0, -4)}AAAA`
    expect((await call(gatewayB.url, '/split/orders/1', forged)).status).toBe(401)
  })

  it('stops a split token revoked at authorization server B at gateway A within one second', async () => {
    const [asA, asB] = stack.authorizationServers
    const [gatewayA] = stack.gateways
    const signature = await clientCredentials('splitter', asA.url)
    expect((await call(gatewayA.url, '/split/orders/1', signature)).status).toBe(200)
    const revoked = await post(
      asB.url,
      '/revoke',
      `token=${encodeURIComponent(signature)}`,
      basic('splitter'),
    )
    expect(revoked.status).toBe(200)
    const elapsed = await eventually(
      async () => (await call(gatewayA.url, '/split/orders/1', signature)).status === 401,
      1_000,
    )
    expect(elapsed).toBeLessThan(1_000)
  })

  it('holds one rate limit across both gateways under concurrent load', async () => {
    const [gatewayA, gatewayB] = stack.gateways
    const responses = await Promise.all(
      Array.from({ length: SHARED_LIMIT * 3 }, (_, index) =>
        request(`${(index % 2 === 0 ? gatewayA : gatewayB).url}/limited/x`, stack.pki.ca.cert),
      ),
    )
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(SHARED_LIMIT)
    expect(statuses.filter((status) => status === 429)).toHaveLength(SHARED_LIMIT * 2)
    const refused = responses.find((response) => response.status === 429)
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('lets exactly one of concurrent refreshes at both authorization servers win, and revokes the family on the reuse', async () => {
    const [asA, asB] = stack.authorizationServers
    const tokens = await signInWithCode(asA.url)
    const refreshAt = (base: string, refreshToken: string) =>
      post(
        base,
        '/token',
        new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: 'spa',
        }).toString(),
      )
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        refreshAt(index % 2 === 0 ? asA.url : asB.url, tokens.refresh_token),
      ),
    )
    const winners = responses.filter((response) => response.status === 200)
    expect(winners).toHaveLength(1)
    for (const loser of responses.filter((response) => response.status !== 200)) {
      expect(loser.status).toBe(400)
      expect(((await loser.json()) as { error: string }).error).toBe('invalid_grant')
    }
    const rotated = (await winners[0]?.json()) as { access_token: string; refresh_token: string }
    // Reuse was detected: the whole family is dead, the winner's new tokens included.
    const again = await refreshAt(asB.url, rotated.refresh_token)
    expect(again.status).toBe(400)
    const introspection = await post(
      asB.url,
      '/introspect',
      `token=${encodeURIComponent(rotated.access_token)}`,
      basic('gateway'),
    )
    expect(await introspection.json()).toEqual({ active: false })
    expect(
      (await call(stack.gateways[1].url, '/phantom/orders/1', rotated.access_token)).status,
    ).toBe(401)
  })

  async function signInWithCode(
    at: string,
  ): Promise<{ access_token: string; refresh_token: string }> {
    const verifier = randomBytes(32).toString('base64url')
    const state = randomBytes(16).toString('base64url')
    const url = new URL(`${at}/authorize`)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'spa',
      redirect_uri: REDIRECT,
      scope: 'openid orders:read',
      state,
      nonce: randomBytes(16).toString('base64url'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    const browser = createBrowser(at, stack.fetch)
    const login = await browser.follow(await browser.get(url.toString()))
    const afterLogin = await browser.submit(login, { username: 'carol', password: PASSWORD })
    const callback = afterLogin.location?.startsWith(REDIRECT)
      ? afterLogin
      : await browser.submit(afterLogin, { decision: 'allow' })
    const code = new URL(callback.location ?? '').searchParams.get('code') ?? ''
    const response = await post(
      at,
      '/token',
      new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: 'spa',
      }).toString(),
    )
    expect(response.status).toBe(200)
    return (await response.json()) as { access_token: string; refresh_token: string }
  }
})
