import { randomBytes } from 'node:crypto'
import { type AuditEvent, createAuditBus } from '@gatehouse/audit'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { APP_ORIGIN, type Harness, startHarness } from '../test-support/harness.js'

let harness: Harness
afterEach(async () => {
  await harness.close()
})

describe('GET /session', () => {
  it('answers isLoggedIn false without cookies, and with tampered ones', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    expect((await browser.send('GET', '/session')).body).toEqual({ isLoggedIn: false })
    const forged = await browser.send('GET', '/session', { cookie: '__Secure-gatehouse-id=AQJrMQ' })
    expect(forged.body).toEqual({ isLoggedIn: false })
  })

  it('answers the user claims and the CSRF token, never a token', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login('user-42')
    const reply = await browser.send('GET', '/session', { origin: null })
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({
      isLoggedIn: true,
      csrfToken: csrf,
      claims: { sub: 'user-42', name: 'Ada Lovelace' },
    })
    expect(reply.body.claims).not.toHaveProperty('nonce')
    expect(JSON.stringify(reply.body)).not.toMatch(/gat_|grt_|eyJ/)
    expect(reply.headers['cache-control']).toBe('no-store')
  })

  it('refuses a cross-origin read from a foreign origin', async () => {
    harness = await startHarness()
    const reply = await harness
      .browser()
      .send('GET', '/session', { origin: 'https://evil.example' })
    expect(reply.status).toBe(403)
    expect(reply.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('CORS', () => {
  it('answers the allowed origin with credentials', async () => {
    harness = await startHarness()
    const reply = await harness.browser().send('GET', '/session')
    expect(reply.headers['access-control-allow-origin']).toBe(APP_ORIGIN)
    expect(reply.headers['access-control-allow-credentials']).toBe('true')
    expect(reply.headers.vary).toBe('Origin')
  })

  it('answers a preflight from the allowed origin, with the CSRF header allowed', async () => {
    harness = await startHarness()
    const reply = await harness.browser().send('OPTIONS', '/refresh', {
      headers: { 'access-control-request-method': 'POST' },
    })
    expect(reply.status).toBe(204)
    expect(reply.headers['access-control-allow-origin']).toBe(APP_ORIGIN)
    expect(reply.headers['access-control-allow-headers']).toContain('x-gatehouse-csrf')
    expect(reply.headers['access-control-allow-methods']).toBe('POST')
  })

  it('refuses a preflight from another origin, from Origin: null, or for another method', async () => {
    harness = await startHarness()
    for (const [origin, method] of [
      ['https://evil.example', 'POST'],
      ['null', 'POST'],
      [APP_ORIGIN, 'DELETE'],
    ] as const) {
      const reply = await harness.browser().send('OPTIONS', '/refresh', {
        origin,
        headers: { 'access-control-request-method': method },
      })
      expect(reply.status).toBe(403)
      expect(reply.headers['access-control-allow-methods']).toBeUndefined()
      if (origin !== APP_ORIGIN)
        expect(reply.headers['access-control-allow-origin']).toBeUndefined()
    }
  })
})

describe('HTTP surface', () => {
  it('answers unknown paths 404 and wrong methods 405 with Allow, as problem+json', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const missing = await browser.send('GET', '/tokens')
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found'])
    expect(missing.headers['content-type']).toBe('application/problem+json')
    const outside = await harness.browser().send('POST', '/../login/start')
    expect(outside.status).toBe(404)
    const wrong = await browser.send('GET', '/refresh')
    expect([wrong.status, wrong.headers.allow]).toEqual([405, 'POST'])
    expect(wrong.body).toMatchObject({
      type: 'about:blank',
      title: 'method_not_allowed',
      status: 405,
    })
  })

  it('never renders an internal error detail to the client', async () => {
    harness = await startHarness()
    harness.as.goDown('http-500')
    const reply = await harness.browser().send('POST', '/login/start')
    expect(reply.status).toBe(502)
    expect(Object.keys(reply.body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type'])
    expect(JSON.stringify(reply.body)).not.toMatch(/stack|at |Error:/)
  })

  it('reports every outcome with a reason code', async () => {
    harness = await startHarness()
    await harness.browser().send('POST', '/refresh', { origin: 'https://evil.example' })
    expect(harness.outcomes.at(-1)).toMatchObject({
      route: '/refresh',
      status: 403,
      reason: 'origin.not_allowed',
    })
  })
})

describe('audit trail', () => {
  it('emits session.started, token.refreshed and session.ended with the subject, never a token', async () => {
    const audit = createAuditBus()
    const events: AuditEvent[] = []
    audit.subscribe({ write: (event) => void events.push(event) })
    harness = await startHarness({ audit })
    const browser = harness.browser()
    const csrf = await browser.login('user-7')
    await browser.send('POST', '/refresh', { csrf })
    await browser.send('POST', '/logout', { csrf })
    expect(events.map((event) => [event.type, event.component, event.outcome])).toEqual([
      ['session.started', 'token-handler', 'success'],
      ['token.refreshed', 'token-handler', 'success'],
      ['session.ended', 'token-handler', 'success'],
    ])
    expect(events[0]?.subject).toBe('user-7')
    expect(JSON.stringify(events)).not.toMatch(/gat_|grt_|eyJ/)
  })
})

describe('cookie key rotation', () => {
  it('keeps sessions alive when a new key is made current, and ends them when the old key is removed', async () => {
    const k1 = { id: 'k1', key: randomBytes(32) }
    const k2 = { id: 'k2', key: randomBytes(32) }
    harness = await startHarness({ cookieKeys: [k1] })
    const browser = harness.browser()
    const csrf = await browser.login()
    const keys = (ids: string[]) => ids.map((id) => ({ id, key: { env: id } }))

    const rotated = await startHarness({
      sharedAs: harness.as,
      cookieKeys: [k2, k1],
      config: { cookies: { keys: keys(['k2', 'k1']), currentKeyId: 'k2' } },
    })
    try {
      const send = (method: string, path: string, options = {}) =>
        fetchVia(rotated.baseUrl, browser, method, path, options)
      expect((await send('GET', '/session')).body.isLoggedIn).toBe(true)
      const refreshed = await send('POST', '/refresh', { csrf })
      expect(refreshed.status).toBe(200)
    } finally {
      await rotated.close()
    }

    const retired = await startHarness({
      sharedAs: harness.as,
      cookieKeys: [k2],
      config: { cookies: { keys: keys(['k2']), currentKeyId: 'k2' } },
    })
    try {
      // The refresh above re-sealed the access and refresh cookies under k2; the ID and CSRF
      // cookies are still under k1, so with k1 gone the session no longer opens.
      const session = await fetchVia(retired.baseUrl, browser, 'GET', '/session', {})
      expect(session.body.isLoggedIn).toBe(false)
    } finally {
      await retired.close()
    }
  })
})

/** Sends `browser`'s cookies to another token-handler instance and keeps what it sets. */
async function fetchVia(
  baseUrl: string,
  browser: ReturnType<Harness['browser']>,
  method: string,
  path: string,
  options: { csrf?: string },
) {
  const headers: Record<string, string> = { origin: APP_ORIGIN, cookie: browser.cookieHeader() }
  if (options.csrf !== undefined) headers['x-gatehouse-csrf'] = options.csrf
  const response = await request(`${baseUrl}/tokenhandler${path}`, {
    method: method as 'GET' | 'POST',
    headers,
  })
  const raw = response.headers['set-cookie']
  for (const line of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
    const pair = line.split(';')[0] ?? ''
    browser.jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
  }
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Record<string, unknown>,
  }
}
