import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../test-support/harness.js'
import { ISSUER } from '../test-support/mock-authorization-server.js'

let harness: Harness
afterEach(async () => {
  await harness.close()
})

function attributesOf(line: string): string {
  return line
    .split(';')
    .slice(1)
    .map((part) => part.trim())
    .filter((part) => !/^(Max-Age|Expires)=/.test(part))
    .join('; ')
}

describe('POST /logout', () => {
  it('revokes both tokens, clears every cookie with the attributes it was set with, returns the end-session URL', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const start = await browser.send('POST', '/login/start')
    const landed = await harness.as.authorize(String(start.body.authorizationUrl))
    const end = await browser.send('POST', '/login/end', { json: { pageUrl: landed } })
    const setWith = new Map(
      [...start.setCookies, ...end.setCookies]
        .filter((line) => !line.includes('Max-Age=0'))
        .map((line) => [line.slice(0, line.indexOf('=')), attributesOf(line)]),
    )
    expect(setWith.size).toBe(5)

    const reply = await browser.send('POST', '/logout', { csrf: String(end.body.csrfToken) })
    expect(reply.status).toBe(200)
    expect(reply.body.revoked).toBe(true)
    const url = new URL(String(reply.body.endSessionUrl))
    expect(url.origin + url.pathname).toBe(`${ISSUER}/logout`)
    expect(url.searchParams.get('client_id')).toBe('spa-agent')
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('https://app.test/')
    expect(url.searchParams.has('id_token_hint')).toBe(false)

    expect(reply.setCookies).toHaveLength(5)
    for (const line of reply.setCookies) {
      const name = line.slice(0, line.indexOf('='))
      expect(line.startsWith(`${name}=;`)).toBe(true)
      expect(line).toContain('Max-Age=0')
      expect(attributesOf(line)).toBe(setWith.get(name))
    }
    expect(browser.jar.size).toBe(0)
    const revoked = harness.as.callsTo('/revoke').map((call) => call.body.get('token') ?? '')
    expect(revoked).toHaveLength(2)
    expect(revoked.some((token) => token.startsWith('grt_'))).toBe(true)
    expect(revoked.some((token) => token.startsWith('gat_'))).toBe(true)
  })

  it('makes the old cookies, replayed by hand, useless for refresh', async () => {
    harness = await startHarness({ config: { refresh: { graceSeconds: 0 } } })
    const browser = harness.browser()
    const csrf = await browser.login()
    const oldCookies = browser.cookieHeader()
    await browser.send('POST', '/logout', { csrf })
    const replay = await browser.send('POST', '/refresh', { csrf, cookie: oldCookies })
    expect([replay.status, replay.body.code]).toEqual([401, 'session_expired'])
  })

  it('refuses a logout without the CSRF header or from a wrong Origin, and keeps the session', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    for (const options of [
      {},
      { csrf: 'wrong' },
      { csrf, origin: 'https://evil.example' },
      { csrf, origin: 'null' },
    ]) {
      const reply = await browser.send('POST', '/logout', options)
      expect([401, 403]).toContain(reply.status)
      expect(reply.setCookies).toEqual([])
    }
    expect(harness.as.callsTo('/revoke')).toEqual([])
    expect((await browser.send('GET', '/session')).body.isLoggedIn).toBe(true)
  })

  it('still logs the browser out when the server is down, saying the tokens were not revoked', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    harness.as.goDown('unreachable')
    const reply = await browser.send('POST', '/logout', { csrf })
    expect(reply.status).toBe(200)
    expect(reply.body.revoked).toBe(false)
    expect(browser.jar.size).toBe(0)
  })

  it('puts the ID token in the end-session URL only when configured to', async () => {
    harness = await startHarness({ config: { endSession: { idTokenHint: true } } })
    const browser = harness.browser()
    const csrf = await browser.login()
    const reply = await browser.send('POST', '/logout', { csrf })
    expect(new URL(String(reply.body.endSessionUrl)).searchParams.get('id_token_hint')).toMatch(
      /^eyJ/,
    )
  })
})
