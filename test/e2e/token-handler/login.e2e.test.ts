import { cookieTokenReaderOptions, createCookieTokenReader } from '@gatehouse/token-handler'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'
import {
  PASSWORD,
  POST_LOGOUT_URI,
  REDIRECT_URI,
  type StartedTokenHandler,
  startTokenHandler,
} from './support/start-token-handler.js'

const ORDERS_API = 'https://orders.gatehouse.test'
let as: StartedAuthorizationServer
let th: StartedTokenHandler
let userinfoEndpoint: string

beforeAll(async () => {
  as = await startAuthorizationServer({
    clients: [
      {
        clientId: 'spa-agent',
        name: 'Orders SPA',
        tokenEndpointAuthMethod: 'client_secret_basic',
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [REDIRECT_URI],
        postLogoutRedirectUris: [POST_LOGOUT_URI],
        scopes: ['openid', 'profile', 'orders:read'],
        audiences: [ORDERS_API],
      },
    ],
    users: [
      { username: 'carol', password: PASSWORD, claims: { customer_id: 'cust-7', name: 'Carol' } },
      { username: 'dave', password: PASSWORD, claims: { customer_id: 'cust-9', name: 'Dave' } },
    ],
  })
  th = await startTokenHandler(as, { clientId: 'spa-agent' })
  const discovery = await as.fetch(`${as.issuer}/.well-known/openid-configuration`)
  userinfoEndpoint = String(((await discovery.json()) as Record<string, unknown>).userinfo_endpoint)
})
afterAll(async () => {
  await th?.close()
  await as?.close()
})

async function userinfoStatus(accessToken: string): Promise<number> {
  const response = await as.fetch(userinfoEndpoint, {
    headers: { authorization: `Bearer ${accessToken}` },
  })
  await response.arrayBuffer()
  return response.status
}

describe('login through the real authorization server', () => {
  it('logs in through the login and consent pages with PAR and gives the SPA cookies only', async () => {
    const spa = th.spa()
    const start = await spa.send('POST', '/login/start')
    const authorizationUrl = new URL(String(start.body.authorizationUrl))
    // The server offers PAR, so only client_id and request_uri travel through the browser.
    expect([...authorizationUrl.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    const landed = await spa.signIn('carol')
    const end = await spa.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(end.status).toBe(200)
    expect(end.body).toMatchObject({
      handled: true,
      isLoggedIn: true,
      claims: { name: 'Carol' },
    })
    expect(JSON.stringify(end.body)).not.toMatch(/eyJ|"access_token"|"refresh_token"/)
    expect([...spa.jar.keys()].sort()).toEqual([
      '__Host-gatehouse-at',
      '__Host-gatehouse-csrf',
      '__Secure-gatehouse-id',
      '__Secure-gatehouse-rt',
    ])
    for (const line of end.setCookies.filter((cookie) => !cookie.includes('Max-Age=0'))) {
      expect(line).toMatch(/; HttpOnly; Secure; SameSite=Strict$/)
    }
    const session = await spa.send('GET', '/session')
    expect(session.body).toMatchObject({ isLoggedIn: true, csrfToken: end.body.csrfToken })
  })

  it('puts a real, working opaque access token in the access cookie (as the gateway reads it)', async () => {
    const spa = th.spa()
    await spa.login('carol')
    const read = createCookieTokenReader(cookieTokenReaderOptions(th.config, th.secrets.cookieKeys))
    const token = read({
      cookieHeader: spa.cookieHeader(),
      method: 'GET',
      origin: undefined,
      csrfHeader: undefined,
    })
    expect(token).not.toMatch(/^eyJ/)
    expect(await userinfoStatus(token)).toBe(200)
  })

  it('refuses a replay of /login/end with the old code and state, and the server revokes what the code issued', async () => {
    const spa = th.spa()
    const landed = await spa.signIn('carol')
    const loginCookie = [...spa.jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const end = await spa.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(end.status).toBe(200)
    const csrf = String(end.body.csrfToken)
    const replay = await th
      .spa()
      .send('POST', '/login/end', { json: { pageUrl: landed }, cookie: loginCookie })
    expect([replay.status, replay.body.code]).toEqual([400, 'login_failed'])
    expect(replay.setCookies.some((line) => line.startsWith('__Host-gatehouse-at='))).toBe(false)
    // RFC 9700 §4.2.4: a replayed code revokes the tokens issued from it.
    const refresh = await spa.send('POST', '/refresh', { csrf })
    expect([refresh.status, refresh.body.code]).toEqual([401, 'session_expired'])
  })

  it('refuses the callback of one browser posted by another browser (its own login cookie)', async () => {
    const victim = th.spa()
    const attacker = th.spa()
    const landed = await attacker.signIn('dave')
    await victim.send('POST', '/login/start')
    const end = await victim.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect([end.status, end.body.code]).toEqual([400, 'login_failed'])
    expect((await victim.send('GET', '/session')).body.isLoggedIn).toBe(false)
    // The attacker's code was never spent, so its owner can still finish the login.
    const own = await attacker.send('POST', '/login/end', { json: { pageUrl: landed } })
    expect(own.body).toMatchObject({ isLoggedIn: true, claims: { name: 'Dave' } })
  })
})

describe('refresh and logout against the real authorization server', () => {
  it('refreshes with rotation; two tabs refreshing at once do not trip reuse detection', async () => {
    const spa = th.spa()
    const csrf = await spa.login('carol')
    const before = spa.jar.get('__Secure-gatehouse-rt')
    const cookie = spa.cookieHeader()
    const [a, b] = await Promise.all([
      spa.send('POST', '/refresh', { csrf, cookie }),
      spa.send('POST', '/refresh', { csrf, cookie }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(spa.jar.get('__Secure-gatehouse-rt')).not.toBe(before)
    // Had the server seen the old refresh token twice, it would have revoked the family.
    const again = await spa.send('POST', '/refresh', { csrf })
    expect(again.status).toBe(200)
  })

  it('gives a late tab that still sends the old refresh cookie the rotated result, while without the grace window the server would see reuse and end the session', async () => {
    const spa = th.spa()
    const csrf = await spa.login('carol')
    const oldCookies = spa.cookieHeader()
    expect((await spa.send('POST', '/refresh', { csrf })).status).toBe(200)
    const late = await spa.send('POST', '/refresh', { csrf, cookie: oldCookies })
    expect(late.status).toBe(200)
    expect((await spa.send('POST', '/refresh', { csrf })).status).toBe(200)

    // The control: the same late tab through a token handler without the grace window.
    const strict = await startTokenHandler(as, {
      clientId: 'spa-agent',
      config: { refresh: { graceSeconds: 0 } },
    })
    try {
      const tab = strict.spa()
      const tabCsrf = await tab.login('carol')
      const stale = tab.cookieHeader()
      expect((await tab.send('POST', '/refresh', { csrf: tabCsrf })).status).toBe(200)
      const reused = await tab.send('POST', '/refresh', { csrf: tabCsrf, cookie: stale })
      expect([reused.status, reused.body.code]).toEqual([401, 'session_expired'])
    } finally {
      await strict.close()
    }
  })

  it('refuses a refresh without the CSRF header or from another origin', async () => {
    const spa = th.spa()
    const csrf = await spa.login('carol')
    expect((await spa.send('POST', '/refresh')).body.code).toBe('csrf_failed')
    expect((await spa.send('POST', '/refresh', { csrf, origin: 'null' })).body.code).toBe(
      'origin_not_allowed',
    )
    expect((await spa.send('POST', '/refresh', { csrf })).status).toBe(200)
  })

  it('logs out: revokes the tokens, clears the cookies; the old cookies replayed by hand work nowhere', async () => {
    const spa = th.spa()
    const csrf = await spa.login('carol')
    const oldCookies = spa.cookieHeader()
    const read = createCookieTokenReader(cookieTokenReaderOptions(th.config, th.secrets.cookieKeys))
    const accessToken = read({
      cookieHeader: oldCookies,
      method: 'GET',
      origin: undefined,
      csrfHeader: undefined,
    })
    expect(await userinfoStatus(accessToken)).toBe(200)

    const reply = await spa.send('POST', '/logout', { csrf })
    expect(reply.status).toBe(200)
    expect(reply.body.revoked).toBe(true)
    const endSession = new URL(String(reply.body.endSessionUrl))
    expect(endSession.href.startsWith(`${as.issuer}/`)).toBe(true)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(POST_LOGOUT_URI)
    expect(spa.jar.size).toBe(0)

    const refresh = await spa.send('POST', '/refresh', { csrf, cookie: oldCookies })
    expect([refresh.status, refresh.body.code]).toEqual([401, 'session_expired'])
    expect(await userinfoStatus(accessToken)).toBe(401)
    // The sealed session cookie still opens, but the session it marks has ended: no user shown.
    const session = await spa.send('GET', '/session', { cookie: oldCookies })
    expect(session.status).toBe(200)
    expect(session.body.isLoggedIn).toBe(false)
    expect(session.body.claims).toBeUndefined()
  })
})
