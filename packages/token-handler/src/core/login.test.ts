import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, REDIRECT_URI, startHarness } from '../test-support/harness.js'
import { ISSUER } from '../test-support/mock-authorization-server.js'

let harness: Harness
afterEach(async () => {
  await harness.close()
})

describe('login start', () => {
  it('answers the authorization URL with S256 PKCE, state and nonce, and a sealed login cookie', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    expect(start.status).toBe(200)
    const url = new URL(String(start.body.authorizationUrl))
    expect(url.origin + url.pathname).toBe(`${ISSUER}/authorize`)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI)
    expect(url.searchParams.has('code_verifier')).toBe(false)
    expect(start.setCookies).toHaveLength(1)
    expect(start.setCookies[0]).toMatch(
      /^__Secure-gatehouse-login=[A-Za-z0-9_-]+; Max-Age=600; Path=\/tokenhandler\/login; HttpOnly; Secure; SameSite=Strict$/,
    )
    expect(start.setCookies[0]).not.toContain(url.searchParams.get('state'))
  })

  it('pushes the request (PAR) when the server offers it, with client authentication', async () => {
    harness = await startHarness({ as: { par: true } })
    const start = await harness.browser().send('POST', '/login/start')
    const url = new URL(String(start.body.authorizationUrl))
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    const [pushed] = harness.as.callsTo('/par')
    expect(pushed?.body.get('code_challenge_method')).toBe('S256')
    expect(pushed?.authorization).toMatch(/^Basic /)
  })

  it('pushes the request when the server requires PAR even if configured off', async () => {
    harness = await startHarness({
      as: { requirePar: true },
      config: { pushedAuthorizationRequests: { enabled: false } },
    })
    const start = await harness.browser().send('POST', '/login/start')
    expect(new URL(String(start.body.authorizationUrl)).searchParams.has('request_uri')).toBe(true)
  })

  it('refuses a login start from a foreign origin, or Origin: null, and sets no cookie', async () => {
    harness = await startHarness()
    for (const origin of ['https://evil.example', 'null', null]) {
      const reply = await harness.browser().send('POST', '/login/start', { origin })
      expect(reply.status).toBe(403)
      expect(reply.body.code).toBe('origin_not_allowed')
      expect(reply.setCookies).toEqual([])
    }
    expect(harness.as.calls).toEqual([])
  })
})

describe('login end', () => {
  it('completes the login: session cookies set, login cookie cleared, no token in the body', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    const landed = await harness.as.authorize(String(start.body.authorizationUrl))
    const end = await browser.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(end.status).toBe(200)
    expect(end.body).toMatchObject({
      handled: true,
      isLoggedIn: true,
      claims: { sub: 'user-1', name: 'Ada Lovelace' },
    })
    expect(end.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(JSON.stringify(end.body)).not.toMatch(/gat_|grt_|eyJ/)
    expect([...browser.jar.keys()].sort()).toEqual([
      '__Host-gatehouse-at',
      '__Host-gatehouse-csrf',
      '__Secure-gatehouse-id',
      '__Secure-gatehouse-rt',
    ])
    expect(end.setCookies.find((line) => line.startsWith('__Secure-gatehouse-login=;'))).toContain(
      'Max-Age=0',
    )
    const [exchange] = harness.as.callsTo('/token')
    expect(exchange?.body.get('grant_type')).toBe('authorization_code')
    expect(exchange?.body.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses an ID token whose signature does not verify against the JWKS', async () => {
    harness = await startHarness({ as: { forgeIdTokens: true } })
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    const landed = await harness.as.authorize(String(start.body.authorizationUrl))
    const end = await browser.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect([end.status, end.body.code]).toEqual([400, 'login_failed'])
    expect(harness.outcomes.at(-1)?.reason).toBe('login.id_token_invalid')
    expect(browser.jar.has('__Host-gatehouse-at')).toBe(false)
  })

  it('tells the SPA when the page is not an OAuth callback', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    for (const pageUrl of [
      'https://app.test/',
      'https://app.test/callback',
      'https://app.test/orders?code=1&state=2',
      'not a url',
    ]) {
      const end = await browser.send('POST', '/login/end', { json: { pageUrl } })
      expect(end.status).toBe(200)
      expect(end.body).toEqual({ handled: false, isLoggedIn: false })
    }
    expect(harness.as.calls).toEqual([])
  })

  it('refuses a callback whose state is not the one of this browser (login CSRF)', async () => {
    harness = await startHarness()
    const victim = harness.browser()
    const attacker = harness.browser()
    await victim.send('POST', '/login/start')
    const attackerStart = await attacker.send('POST', '/login/start')
    const attackerLanding = await harness.as.authorize(String(attackerStart.body.authorizationUrl))
    const end = await victim.send('POST', '/login/end', { json: { pageUrl: attackerLanding } })
    expect(end.status).toBe(400)
    expect(end.body.code).toBe('login_failed')
    expect(harness.as.callsTo('/token')).toEqual([])
    expect(victim.jar.has('__Host-gatehouse-at')).toBe(false)
    // The failed login's cookie is gone: the same callback cannot be tried again.
    expect(end.setCookies).toEqual([
      expect.stringMatching(/^__Secure-gatehouse-login=; Max-Age=0;/),
    ])
  })

  it('refuses a callback replayed with the login cookie of another browser', async () => {
    harness = await startHarness()
    const owner = harness.browser()
    const other = harness.browser()
    const start = await owner.send('POST', '/login/start')
    await other.send('POST', '/login/start')
    const landed = await harness.as.authorize(String(start.body.authorizationUrl))
    const end = await other.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(end.status).toBe(400)
    expect(end.body.code).toBe('login_failed')
    expect(harness.as.callsTo('/token')).toEqual([])
  })

  it('refuses a callback without any login cookie', async () => {
    harness = await startHarness()
    const owner = harness.browser()
    const start = await owner.send('POST', '/login/start')
    const landed = await harness.as.authorize(String(start.body.authorizationUrl))
    const end = await harness.browser().send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(end.status).toBe(400)
    expect(end.body.code).toBe('login_failed')
    expect(harness.as.callsTo('/token')).toEqual([])
  })

  it('refuses a replay of the old code and state (with the old login cookie kept by hand)', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    const loginCookie = `__Secure-gatehouse-login=${browser.jar.get('__Secure-gatehouse-login')}`
    const landed = await harness.as.authorize(String(start.body.authorizationUrl))
    expect((await browser.send('POST', '/login/end', { json: { pageUrl: landed } })).status).toBe(
      200,
    )
    expect(browser.jar.has('__Secure-gatehouse-login')).toBe(false)
    const replay = await harness
      .browser()
      .send('POST', '/login/end', { json: { pageUrl: landed }, cookie: loginCookie })
    expect(replay.status).toBe(400)
    expect(replay.body).toMatchObject({ code: 'login_failed' })
    expect(replay.setCookies.some((line) => line.startsWith('__Host-gatehouse-at='))).toBe(false)
  })

  it('refuses a callback from the same browser after a newer login was started (old state)', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const first = await browser.send('POST', '/login/start')
    await browser.send('POST', '/login/start')
    const landed = await harness.as.authorize(String(first.body.authorizationUrl))
    const end = await browser.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(end.status).toBe(400)
    expect(end.body.code).toBe('login_failed')
    expect(harness.as.callsTo('/token')).toEqual([])
  })

  it('refuses a callback whose iss is another server (mix-up, RFC 9207)', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    const landed = new URL(await harness.as.authorize(String(start.body.authorizationUrl)))
    landed.searchParams.set('iss', 'https://evil.example')
    const end = await browser.send('POST', '/login/end', { json: { pageUrl: landed.href } })
    expect(end.status).toBe(400)
    expect(harness.as.callsTo('/token')).toEqual([])
  })

  it('reports an error response from the server as login_failed with its OAuth code', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    const state = new URL(String(start.body.authorizationUrl)).searchParams.get('state') ?? ''
    const pageUrl = `${REDIRECT_URI}?error=access_denied&state=${state}&iss=${encodeURIComponent(ISSUER)}`
    const end = await browser.send('POST', '/login/end', { json: { pageUrl } })
    expect(end.status).toBe(400)
    expect(end.body.code).toBe('login_failed')
  })

  it('refuses bodies that are not JSON objects with a pageUrl', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    expect((await browser.send('POST', '/login/end', { json: {} })).body.code).toBe(
      'invalid_request',
    )
    expect((await browser.send('POST', '/login/end', { json: [1] })).body.code).toBe(
      'invalid_request',
    )
    const text = await browser.send('POST', '/login/end', {
      headers: { 'content-type': 'text/plain' },
    })
    expect(text.status).toBe(415)
    const big = await browser.send('POST', '/login/end', { json: { pageUrl: 'x'.repeat(10_000) } })
    expect(big.status).toBe(413)
  })

  it('answers 503 authorization_server_unavailable when the server is down, never 401', async () => {
    harness = await startHarness()
    harness.as.goDown('unreachable')
    const start = await harness.browser().send('POST', '/login/start')
    expect(start.status).toBe(503)
    expect(start.body.code).toBe('authorization_server_unavailable')
    expect(start.setCookies).toEqual([])
  })
})
