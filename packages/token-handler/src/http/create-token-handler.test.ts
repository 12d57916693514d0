import { type AuditEvent, createAuditBus } from '@gatehouse/audit'
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
