import { createHash, randomBytes } from 'node:crypto'
import { createCookieJar, createCookieSealer } from '@gatehouse/token-handler'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EchoedRequest } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import { type GatewayStack, ORDERS_API, startGatewayStack } from './support/start-gateway.js'

const APP_ORIGIN = 'https://app.example.test'
const cookieKey = randomBytes(32)
const cookieSettings = { namePrefix: 'gh', basePath: '/tokenhandler', apiPath: '/api' }
/** The token handler's own cookie jar: the cookies are sealed exactly as the token handler seals them. */
const jar = createCookieJar(
  cookieSettings,
  createCookieSealer({ keys: [{ id: 'k1', key: cookieKey }], currentKeyId: 'k1' }),
  Date.now,
)
const pair = (setCookie: string) => setCookie.split(';')[0] ?? ''

let stack: GatewayStack

beforeAll(async () => {
  stack = await startGatewayStack(
    (config) => {
      config.tokenHandler = {
        cookies: cookieSettings,
        keys: [{ id: 'k1', key: { env: 'COOKIE_KEY' } }],
        currentKeyId: 'k1',
        allowedOrigins: [APP_ORIGIN],
      }
      config.routes.unshift({
        id: 'spa-orders',
        match: { path: '/api/orders/**', methods: ['GET', 'POST'] },
        upstream: 'echo',
        auth: { method: 'cookie', issuer: 'local', audience: ORDERS_API },
        scopes: { GET: ['orders:read'], POST: ['orders:write'] },
        cors: { allowedOrigins: [APP_ORIGIN], allowCredentials: true },
      })
    },
    { COOKIE_KEY: cookieKey.toString('base64') },
  )
})
afterAll(async () => {
  await stack?.close()
})

function session(scope = 'orders:read orders:write') {
  const opaque = stack.issuer.issueOpaque({ scope })
  const csrf = randomBytes(16).toString('base64url')
  return {
    opaque,
    csrf,
    cookie: `${pair(jar.set('access', opaque, 300))}; ${pair(jar.set('csrf', csrf, 300))}; theme=dark`,
  }
}

describe('cookie route (token handler cookies → phantom → JWT)', () => {
  it('opens the access-token cookie, forwards a JWT and drops the cookies', async () => {
    const { cookie } = session()
    const res = await request(`${stack.url}/api/orders/1`, stack.ca, { headers: { cookie } })
    expect(res.status).toBe(200)
    const { headers } = res.json<EchoedRequest>()
    expect(headers.authorization).toMatch(/^Bearer eyJ/)
    expect(headers.cookie).toBeUndefined()
  })

  it('accepts a state-changing request from an allowed origin with the matching CSRF header', async () => {
    const { cookie, csrf } = session()
    const res = await request(`${stack.url}/api/orders`, stack.ca, {
      method: 'POST',
      headers: {
        cookie,
        origin: APP_ORIGIN,
        'x-csrf-token': csrf,
        'content-type': 'application/json',
      },
      body: '{}',
    })
    expect(res.status).toBe(200)
  })

  it.each([
    ['without the CSRF header', () => ({ origin: APP_ORIGIN }), 401, 'csrf_failed'],
    [
      'with a CSRF header that does not match',
      () => ({ origin: APP_ORIGIN, 'x-csrf-token': 'forged' }),
      401,
      'csrf_failed',
    ],
    [
      'from another origin',
      (csrf: string) => ({ origin: 'https://evil.test', 'x-csrf-token': csrf }),
      403,
      'origin_not_allowed',
    ],
    [
      'with Origin: null',
      (csrf: string) => ({ origin: 'null', 'x-csrf-token': csrf }),
      403,
      'origin_not_allowed',
    ],
    ['without any Origin', (csrf: string) => ({ 'x-csrf-token': csrf }), 403, 'origin_not_allowed'],
  ])('refuses a POST %s, without calling the upstream', async (_name, extra, status, code) => {
    const { cookie, csrf } = session()
    const before = stack.upstream.received.length
    const res = await request(`${stack.url}/api/orders`, stack.ca, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', ...extra(csrf) },
      body: '{}',
    })
    expect(res.status).toBe(status)
    expect(res.json()).toMatchObject({ title: code })
    expect(stack.upstream.received.length).toBe(before)
  })

  it('answers 401 access_token_expired without an access cookie, so the app refreshes', async () => {
    const res = await request(`${stack.url}/api/orders/1`, stack.ca, {
      headers: { cookie: 'theme=dark' },
    })
    expect(res.status).toBe(401)
    expect(res.json()).toMatchObject({ title: 'access_token_expired' })
  })

  it('refuses a tampered cookie and a cookie sealed under another key', async () => {
    const { cookie } = session()
    const tampered = cookie.replace(
      /=([A-Za-z0-9_-])/,
      (_m, c: string) => `=${c === 'A' ? 'B' : 'A'}`,
    )
    expect(
      (await request(`${stack.url}/api/orders/1`, stack.ca, { headers: { cookie: tampered } }))
        .status,
    ).toBe(401)
    const otherJar = createCookieJar(
      cookieSettings,
      createCookieSealer({ keys: [{ id: 'k1', key: randomBytes(32) }], currentKeyId: 'k1' }),
      Date.now,
    )
    const foreign = pair(otherJar.set('access', stack.issuer.issueOpaque(), 300))
    const res = await request(`${stack.url}/api/orders/1`, stack.ca, {
      headers: { cookie: foreign },
    })
    expect(res.status).toBe(401)
    expect(res.json()).toMatchObject({ title: 'invalid_cookie' })
  })

  it('refuses a bearer token sent instead of the cookie (methods are never mixed)', async () => {
    const res = await request(`${stack.url}/api/orders/1`, stack.ca, {
      headers: { authorization: `Bearer ${await stack.issuer.sign()}` },
    })
    expect(res.status).toBe(401)
  })

  it('stops at once when the token inside the cookie is revoked', async () => {
    const { cookie, opaque } = session()
    expect(
      (await request(`${stack.url}/api/orders/1`, stack.ca, { headers: { cookie } })).status,
    ).toBe(200)
    stack.issuer.revokeOpaque(opaque)
    await stack.gateway.state.revocations.publish({
      tokenHash: createHash('sha256').update(opaque).digest('base64url'),
    })
    expect(
      (await request(`${stack.url}/api/orders/1`, stack.ca, { headers: { cookie } })).status,
    ).toBe(401)
  })
})

describe('CORS on the cookie route (the SPA on another origin)', () => {
  const preflight = (origin: string) =>
    request(`${stack.url}/api/orders`, stack.ca, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-csrf-token',
      },
    })

  it('answers the preflight of an allowed origin itself, with credentials and no upstream call', async () => {
    const before = stack.upstream.received.length
    const res = await preflight(APP_ORIGIN)
    expect(res.status).toBe(204)
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': APP_ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, x-csrf-token',
      vary: 'Origin',
    })
    expect(stack.upstream.received.length).toBe(before)
  })

  it('refuses the preflight of any other origin, and of Origin: null', async () => {
    for (const origin of ['https://evil.test', 'null', 'https://app.example.test.evil.test']) {
      const res = await preflight(origin)
      expect(res.status).toBe(403)
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
    }
  })

  it('lets an allowed origin read answers, refusals included, and no other origin', async () => {
    const { cookie } = session()
    const ok = await request(`${stack.url}/api/orders/1`, stack.ca, {
      headers: { cookie, origin: APP_ORIGIN },
    })
    expect(ok.headers['access-control-allow-origin']).toBe(APP_ORIGIN)
    expect(ok.headers['access-control-expose-headers']).toBe('x-request-id')
    const expired = await request(`${stack.url}/api/orders/1`, stack.ca, {
      headers: { origin: APP_ORIGIN },
    })
    expect(expired.status).toBe(401)
    expect(expired.headers['access-control-allow-origin']).toBe(APP_ORIGIN)
    const foreign = await request(`${stack.url}/api/orders/1`, stack.ca, {
      headers: { cookie, origin: 'https://evil.test' },
    })
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
    expect(foreign.headers.vary).toBe('Origin')
  })
})
