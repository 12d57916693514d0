import type * as oauth from 'oauth4webapi'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../test-support/harness.js'
import { createRefreshCoordinator } from './refresh.js'

const tokens = (value: string): oauth.TokenEndpointResponse => ({
  access_token: value,
  token_type: 'bearer',
})

describe('refresh coordinator', () => {
  it('coalesces concurrent refreshes of one refresh token into one call', async () => {
    const coordinator = createRefreshCoordinator({ graceSeconds: 0, maxSessions: 10 })
    let calls = 0
    let release: (value: oauth.TokenEndpointResponse) => void = () => {}
    const call = () => {
      calls++
      return new Promise<oauth.TokenEndpointResponse>((resolve) => {
        release = resolve
      })
    }
    const first = coordinator.refresh('grt_a', call)
    const second = coordinator.refresh('grt_a', call)
    const other = coordinator.refresh('grt_b', async () => tokens('other'))
    release(tokens('new'))
    expect(await first).toEqual(tokens('new'))
    expect(await second).toEqual(tokens('new'))
    expect(await other).toEqual(tokens('other'))
    expect(calls).toBe(1)
  })

  it('reuses a completed refresh for the same old token within the grace period only', async () => {
    let clockCalls = 0
    const coordinator = createRefreshCoordinator({ graceSeconds: 10, maxSessions: 10 })
    const call = async () => tokens(`t${++clockCalls}`)
    expect(await coordinator.refresh('grt_a', call)).toEqual(tokens('t1'))
    expect(await coordinator.refresh('grt_a', call)).toEqual(tokens('t1'))
    expect(clockCalls).toBe(1)
  })

  it('does not keep a failed refresh: the next attempt calls again', async () => {
    const coordinator = createRefreshCoordinator({ graceSeconds: 10, maxSessions: 10 })
    let calls = 0
    const failing = async (): Promise<oauth.TokenEndpointResponse> => {
      calls++
      throw new Error('down')
    }
    await expect(coordinator.refresh('grt_a', failing)).rejects.toThrow('down')
    await expect(coordinator.refresh('grt_a', failing)).rejects.toThrow('down')
    expect(calls).toBe(2)
  })
})

describe('POST /refresh', () => {
  let harness: Harness
  afterEach(async () => {
    await harness.close()
  })

  it('refreshes: new access and refresh cookies, same session end, no token in the body', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    const before = {
      at: browser.jar.get('__Host-gatehouse-at'),
      rt: browser.jar.get('__Secure-gatehouse-rt'),
    }
    const reply = await browser.send('POST', '/refresh', { csrf })
    expect(reply.status).toBe(200)
    expect(typeof reply.body.accessTokenExpiresAt).toBe('number')
    expect(JSON.stringify(reply.body)).not.toMatch(/gat_|grt_/)
    expect(browser.jar.get('__Host-gatehouse-at')).not.toBe(before.at)
    expect(browser.jar.get('__Secure-gatehouse-rt')).not.toBe(before.rt)
    expect(harness.as.callsTo('/token').map((call) => call.body.get('grant_type'))).toEqual([
      'authorization_code',
      'refresh_token',
    ])
    // The rotated token works for the next refresh too.
    expect((await browser.send('POST', '/refresh', { csrf })).status).toBe(200)
  })

  it('sends two concurrent refreshes (two tabs) to the token endpoint once', async () => {
    harness = await startHarness({ as: { tokenDelayMs: 150 } })
    const browser = harness.browser()
    const csrf = await browser.login()
    const cookie = browser.cookieHeader()
    const [a, b] = await Promise.all([
      browser.send('POST', '/refresh', { csrf, cookie }),
      browser.send('POST', '/refresh', { csrf, cookie }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(
      harness.as.callsTo('/token').filter((c) => c.body.get('grant_type') === 'refresh_token'),
    ).toHaveLength(1)
    // The server saw no reuse: the session survives and refreshes again.
    expect((await browser.send('POST', '/refresh', { csrf })).status).toBe(200)
  })

  it('gives a late tab that still sends the old refresh cookie the same result, not a reuse', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    const oldCookie = browser.cookieHeader()
    expect((await browser.send('POST', '/refresh', { csrf })).status).toBe(200)
    const late = await browser.send('POST', '/refresh', { csrf, cookie: oldCookie })
    expect(late.status).toBe(200)
    expect(
      harness.as.callsTo('/token').filter((c) => c.body.get('grant_type') === 'refresh_token'),
    ).toHaveLength(1)
  })

  it('refuses a refresh without the CSRF header, with a wrong one, or from a wrong Origin; nothing changes', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    const attempts = [
      { options: {}, status: 401, code: 'csrf_failed' },
      { options: { csrf: 'not-the-token' }, status: 401, code: 'csrf_failed' },
      {
        options: { csrf, origin: 'https://evil.example' },
        status: 403,
        code: 'origin_not_allowed',
      },
      { options: { csrf, origin: 'null' }, status: 403, code: 'origin_not_allowed' },
      { options: { csrf, origin: null }, status: 403, code: 'origin_not_allowed' },
    ]
    for (const attempt of attempts) {
      const reply = await browser.send('POST', '/refresh', attempt.options)
      expect([reply.status, reply.body.code]).toEqual([attempt.status, attempt.code])
      expect(reply.setCookies).toEqual([])
    }
    expect(harness.as.callsTo('/token')).toHaveLength(1)
  })

  it('refuses a tampered or swapped refresh cookie with 401 and no call to the server', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    const csrfCookie = `__Host-gatehouse-csrf=${browser.jar.get('__Host-gatehouse-csrf')}`
    const access = browser.jar.get('__Host-gatehouse-at') ?? ''
    const refresh = browser.jar.get('__Secure-gatehouse-rt') ?? ''
    const tampered = `${refresh.slice(0, 30)}${refresh[30] === 'A' ? 'B' : 'A'}${refresh.slice(31)}`
    for (const value of [access, tampered, refresh.slice(0, 40)]) {
      const reply = await browser.send('POST', '/refresh', {
        csrf,
        cookie: `${csrfCookie}; __Secure-gatehouse-rt=${value}`,
      })
      expect(reply.status).toBe(401)
      expect(reply.body.code).toBe('session_expired')
    }
    expect(harness.as.callsTo('/token')).toHaveLength(1)
  })

  it('answers session_expired and clears the cookies when the server refuses the refresh token', async () => {
    harness = await startHarness({ config: { refresh: { graceSeconds: 0 } } })
    const browser = harness.browser()
    const csrf = await browser.login()
    const oldCookie = browser.cookieHeader()
    await browser.send('POST', '/refresh', { csrf })
    // Replaying the rotated-out refresh token by hand: the server detects reuse.
    const replay = await browser.send('POST', '/refresh', { csrf, cookie: oldCookie })
    expect(replay.status).toBe(401)
    expect(replay.body.code).toBe('session_expired')
    expect(replay.setCookies.filter((line) => line.includes('Max-Age=0'))).toHaveLength(5)
  })

  it('answers 503 when the server is unreachable and 502 when it fails, never 401, keeping the cookies', async () => {
    harness = await startHarness()
    const browser = harness.browser()
    const csrf = await browser.login()
    harness.as.goDown('unreachable')
    const unreachable = await browser.send('POST', '/refresh', { csrf })
    expect([unreachable.status, unreachable.body.code]).toEqual([
      503,
      'authorization_server_unavailable',
    ])
    expect(unreachable.setCookies).toEqual([])
    harness.as.goDown('http-500')
    const failing = await browser.send('POST', '/refresh', { csrf })
    expect([failing.status, failing.body.code]).toEqual([502, 'authorization_server_unavailable'])
    expect(failing.setCookies).toEqual([])
    harness.as.goDown('http-503')
    const overloaded = await browser.send('POST', '/refresh', { csrf })
    expect([overloaded.status, overloaded.body.code]).toEqual([
      503,
      'authorization_server_unavailable',
    ])
  })

  it('answers session_expired after the absolute session lifetime, however often it refreshed', async () => {
    let clock = Date.now()
    harness = await startHarness({
      now: () => clock,
      config: { session: { absoluteLifetimeSeconds: 3600 } },
    })
    const browser = harness.browser()
    const csrf = await browser.login()
    clock += 1800_000
    expect((await browser.send('POST', '/refresh', { csrf })).status).toBe(200)
    clock += 1801_000
    const expired = await browser.send('POST', '/refresh', { csrf })
    expect([expired.status, expired.body.code]).toEqual([401, 'session_expired'])
    expect(harness.as.callsTo('/token')).toHaveLength(2)
  })

  it('answers session_expired when the browser sends no session cookies at all', async () => {
    harness = await startHarness()
    const reply = await harness.browser().send('POST', '/refresh', { csrf: 'anything' })
    expect([reply.status, reply.body.code]).toEqual([401, 'session_expired'])
    expect(harness.as.calls).toEqual([])
  })
})
