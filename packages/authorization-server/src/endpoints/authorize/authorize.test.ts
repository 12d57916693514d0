import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Browser } from '../../../../../test/e2e/support/browser.js'
import { createUser } from '../../admin/users.js'
import { createKeyEncryption } from '../../keys/key-encryption.js'
import { base32Decode, hotp, totpStep } from '../../login/totp.js'
import {
  authorizeUrl,
  callbackParams,
  createPkce,
  newBrowser,
  type Pkce,
  signIn,
} from '../../test-support/authorization-flow.js'
import {
  basic,
  ORDERS_API,
  startTestServer,
  TEST_ISSUER,
  type TestServer,
} from '../../test-support/test-server.js'

const REDIRECT = 'https://app.example/callback'
let as: TestServer
let secret: string
let browser: Browser
let pkce: Pkce

beforeEach(async () => {
  as = await startTestServer()
  secret = (await as.createClient({
    clientId: 'web',
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: ['https://app.example/bye'],
    scopes: ['openid', 'profile', 'orders:read', 'orders:write', 'offline_access'],
  })) as string
  await createUser(as.store, createKeyEncryption(as.keyEncryptionKey), {
    username: 'alice',
    password: 'correct horse battery',
    claims: { customer_id: 'c-1', name: 'Alice', role: 'customer' },
  })
  browser = newBrowser(as)
  pkce = createPkce()
})
afterEach(async () => {
  await as.close()
})

function authorize(overrides: Record<string, string> = {}) {
  return authorizeUrl(as, {
    response_type: 'code',
    client_id: 'web',
    redirect_uri: REDIRECT,
    scope: 'openid profile orders:read',
    state: 'st-1',
    nonce: 'n-1',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...overrides,
  })
}

async function loginAndConsent(url = authorize()): Promise<URLSearchParams> {
  const afterLogin = await signIn(browser, await browser.get(url), 'alice', 'correct horse battery')
  expect(afterLogin.html).toContain('Allow access?')
  return callbackParams(await browser.submit(afterLogin, { decision: 'allow' }))
}

function redeem(code: string, overrides: Record<string, string> = {}) {
  return as.post(
    '/token',
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: pkce.verifier,
      ...overrides,
    },
    { authorization: basic('web', secret) },
  )
}

async function introspect(token: string) {
  return (await (
    await as.post('/introspect', { token }, { authorization: basic('web', secret) })
  ).json()) as { active: boolean }
}

describe('authorization code flow', () => {
  it('logs in, asks consent, returns code + state + iss, and the code buys tokens, an ID token and userinfo', async () => {
    const params = await loginAndConsent()
    expect(params.get('state')).toBe('st-1')
    expect(params.get('iss')).toBe(TEST_ISSUER)
    const code = params.get('code') ?? ''
    expect(code).toMatch(/^gac_/)
    const response = await redeem(code)
    expect(response.status).toBe(200)
    const tokens = (await response.json()) as Record<string, string>
    expect(tokens.refresh_token).toMatch(/^grt_/)
    const idToken = decodeJwt(tokens.id_token ?? '')
    expect(idToken).toMatchObject({
      iss: TEST_ISSUER,
      aud: 'web',
      nonce: 'n-1',
      name: 'Alice',
      amr: ['pwd'],
    })
    // Only consented claims: no role (no scope releases it); customer_id comes with orders:read.
    expect(idToken.role).toBeUndefined()
    expect(idToken.customer_id).toBe('c-1')
    const userinfo = await fetch(`${as.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(await userinfo.json()).toEqual({ sub: idToken.sub, name: 'Alice', customer_id: 'c-1' })
    const [issued] = await as.store.queryAuditEvents({ type: 'login.succeeded' })
    expect(issued?.subject).toBe(idToken.sub)
  })

  it('needs no second login or consent within the session', async () => {
    await loginAndConsent()
    const again = await browser.get(authorize({ state: 'st-2' }))
    expect(callbackParams(again).get('code')).toMatch(/^gac_/)
    expect(callbackParams(again).get('state')).toBe('st-2')
  })

  it('skips consent for first-party clients', async () => {
    await as.createClient({
      clientId: 'first',
      firstParty: true,
      grantTypes: ['authorization_code'],
      redirectUris: [REDIRECT],
      scopes: ['openid'],
    })
    const page = await signIn(
      browser,
      await browser.get(authorize({ client_id: 'first', scope: 'openid' })),
      'alice',
      'correct horse battery',
    )
    expect(callbackParams(page).get('code')).toMatch(/^gac_/)
  })

  it('redirects access_denied when the user denies consent', async () => {
    const afterLogin = await signIn(
      browser,
      await browser.get(authorize()),
      'alice',
      'correct horse battery',
    )
    const params = callbackParams(await browser.submit(afterLogin, { decision: 'deny' }))
    expect(params.get('error')).toBe('access_denied')
    expect(params.get('state')).toBe('st-1')
    expect(params.get('code')).toBeNull()
  })

  it('asks for a new login when the session is older than max_age', async () => {
    await loginAndConsent()
    as.clock.advance(120_000)
    expect(callbackParams(await browser.get(authorize({ max_age: '300' }))).get('code')).toMatch(
      /^gac_/,
    )
    const stale = await browser.get(authorize({ max_age: '60' }))
    expect(stale.location).toContain('/interaction?id=')
    expect(
      callbackParams(await browser.get(authorize({ max_age: '60', prompt: 'none' }))).get('error'),
    ).toBe('login_required')
    expect(callbackParams(await browser.get(authorize({ max_age: '-1' }))).get('error')).toBe(
      'invalid_request',
    )
  })

  it('answers prompt=none without a session with login_required at the client', async () => {
    const params = callbackParams(await browser.get(authorize({ prompt: 'none' })))
    expect(params.get('error')).toBe('login_required')
  })
})

describe('redirect URI manipulation (RFC 9700 §4.1)', () => {
  it.each([
    ['a suffix', `${REDIRECT}x`],
    ['a prefix only', 'https://app.example/'],
    ['another case', 'https://APP.example/callback'],
    ['an added path', `${REDIRECT}/../evil`],
    ['userinfo', 'https://app.example@evil.example/callback'],
    ['encoded characters', 'https://app.example/%63allback'],
    ['a query added', `${REDIRECT}?next=https://evil.example`],
    ['another host', 'https://evil.example/callback'],
  ])('shows an error page and never redirects for %s', async (_name, redirectUri) => {
    const page = await browser.get(authorize({ redirect_uri: redirectUri }))
    expect(page.status).toBe(400)
    expect(page.location).toBeNull()
    expect(page.html).toContain('cannot be completed')
    expect(page.html).not.toContain('evil.example')
  })

  it('shows a page for an unknown client, a missing redirect_uri and repeated parameters', async () => {
    for (const url of [
      authorize({ client_id: 'nobody' }),
      authorizeUrl(as, {
        response_type: 'code',
        client_id: 'web',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
      `${authorize()}&redirect_uri=${encodeURIComponent('https://evil.example/')}`,
      `${authorize()}&state=again`,
    ]) {
      const page = await browser.get(url)
      expect(page.status).toBe(400)
      expect(page.location).toBeNull()
    }
  })
})

describe('PKCE downgrade', () => {
  it.each([
    ['no challenge', { code_challenge: '' }],
    ['the plain method', { code_challenge_method: 'plain' }],
    ['no method (defaults to plain)', { code_challenge_method: '' }],
    ['a malformed challenge', { code_challenge: 'short' }],
  ])('refuses %s at /authorize with invalid_request at the client', async (_name, overrides) => {
    const params = callbackParams(await browser.get(authorize(overrides)))
    expect(params.get('error')).toBe('invalid_request')
    expect(params.get('iss')).toBe(TEST_ISSUER)
  })

  it('refuses a missing or wrong verifier without spending the code', async () => {
    const code = (await loginAndConsent()).get('code') ?? ''
    const missing = await as.post(
      '/token',
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT },
      { authorization: basic('web', secret) },
    )
    expect(await missing.json()).toMatchObject({ error: 'invalid_request' })
    const wrong = await redeem(code, { code_verifier: createPkce().verifier })
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' })
    expect((await redeem(code)).status).toBe(200)
  })

  it('refuses another redirect_uri at the token endpoint', async () => {
    const code = (await loginAndConsent()).get('code') ?? ''
    expect(await (await redeem(code, { redirect_uri: `${REDIRECT}x` })).json()).toMatchObject({
      error: 'invalid_grant',
    })
  })
})

describe('code replay', () => {
  it('refuses the second redemption and revokes what the first one issued', async () => {
    const code = (await loginAndConsent()).get('code') ?? ''
    const first = (await (await redeem(code)).json()) as Record<string, string>
    const replay = await redeem(code)
    expect(replay.status).toBe(400)
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' })
    expect(await introspect(first.access_token ?? '')).toEqual({ active: false })
    expect(await introspect(first.refresh_token ?? '')).toEqual({ active: false })
    expect(await as.store.queryAuditEvents({ type: 'code.replayed' })).toHaveLength(1)
  })

  it('lets only one of two concurrent redemptions through, and revokes its tokens since the code was replayed', async () => {
    const code = (await loginAndConsent()).get('code') ?? ''
    const responses = await Promise.all([redeem(code), redeem(code)])
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400])
    const winner = responses.find((response) => response.status === 200)
    const tokens = (await winner?.json()) as Record<string, string>
    expect(await introspect(tokens.access_token ?? '')).toEqual({ active: false })
    expect(await introspect(tokens.refresh_token ?? '')).toEqual({ active: false })
  })

  it('refuses an expired code and a code of another client', async () => {
    const code = (await loginAndConsent()).get('code') ?? ''
    const otherSecret = await as.createClient({
      clientId: 'other',
      grantTypes: ['authorization_code'],
      redirectUris: [REDIRECT],
    })
    const stolen = await as.post(
      '/token',
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: pkce.verifier,
      },
      { authorization: basic('other', otherSecret ?? '') },
    )
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' })
    as.clock.advance(61_000)
    expect(await (await redeem(code)).json()).toMatchObject({ error: 'invalid_grant' })
  })
})

describe('refresh tokens', () => {
  async function tokens(): Promise<Record<string, string>> {
    return (await (await redeem((await loginAndConsent()).get('code') ?? '')).json()) as Record<
      string,
      string
    >
  }
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    as.post(
      '/token',
      { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
      { authorization: basic('web', secret) },
    )

  it('rotates on every use', async () => {
    const first = await tokens()
    const second = (await (await refresh(first.refresh_token ?? '')).json()) as Record<
      string,
      string
    >
    expect(second.refresh_token).toMatch(/^grt_/)
    expect(second.refresh_token).not.toBe(first.refresh_token)
    // Another client (a gateway) learns nothing about someone else's refresh token.
    const gatewaySecret = await as.createClient({ clientId: 'gateway' })
    const foreign = await as.post(
      '/introspect',
      { token: second.refresh_token ?? '' },
      { authorization: basic('gateway', gatewaySecret ?? '') },
    )
    expect(await foreign.json()).toEqual({ active: false })
    expect(second.scope).toBe('openid profile orders:read')
    expect((await refresh(second.refresh_token ?? '')).status).toBe(200)
  })

  it('revokes the whole family when a spent refresh token is reused', async () => {
    const first = await tokens()
    const second = (await (await refresh(first.refresh_token ?? '')).json()) as Record<
      string,
      string
    >
    const reuse = await refresh(first.refresh_token ?? '')
    expect(await reuse.json()).toMatchObject({ error: 'invalid_grant' })
    expect(await introspect(second.refresh_token ?? '')).toEqual({ active: false })
    expect(await introspect(second.access_token ?? '')).toEqual({ active: false })
    expect(await as.store.queryAuditEvents({ type: 'refresh.reuse_detected' })).toHaveLength(1)
  })

  it('lets only one of two concurrent uses of a refresh token through and revokes the family', async () => {
    const first = await tokens()
    const responses = await Promise.all([
      refresh(first.refresh_token ?? ''),
      refresh(first.refresh_token ?? ''),
    ])
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400])
    const winner = (await responses.find((response) => response.status === 200)?.json()) as Record<
      string,
      string
    >
    expect(await introspect(winner.refresh_token ?? '')).toEqual({ active: false })
    expect(await introspect(winner.access_token ?? '')).toEqual({ active: false })
  })

  it('refuses scope escalation and audience widening, and allows narrowing', async () => {
    const first = await tokens()
    const escalate = await refresh(first.refresh_token ?? '', {
      scope: 'openid orders:read orders:write',
    })
    expect(await escalate.json()).toMatchObject({ error: 'invalid_scope' })
    const widen = await refresh(first.refresh_token ?? '', { resource: 'https://evil.example/' })
    expect(await widen.json()).toMatchObject({ error: 'invalid_target' })
    const narrow = (await (
      await refresh(first.refresh_token ?? '', { scope: 'orders:read' })
    ).json()) as Record<string, string>
    expect(narrow.scope).toBe('orders:read')
  })
})

describe('login attacks', () => {
  it('locks the account after repeated failures, even for the right password, and audits it', async () => {
    let page = await browser.follow(await browser.get(authorize()))
    for (let attempt = 0; attempt < 5; attempt++) {
      page = await browser.submit(page, { username: 'alice', password: `wrong-${attempt}` })
      expect(page.status).toBe(401)
      expect(page.html).toContain('Invalid username or password.')
    }
    const locked = await browser.submit(page, {
      username: 'alice',
      password: 'correct horse battery',
    })
    expect(locked.status).toBe(429)
    expect(locked.location).toBeNull()
    expect(await as.store.queryAuditEvents({ type: 'login.failed' })).toHaveLength(5)
    expect((await as.store.queryAuditEvents({ type: 'login.locked' })).length).toBeGreaterThan(0)
    as.clock.advance(901_000)
    const fresh = await browser.follow(await browser.get(authorize()))
    const unlocked = await browser.submit(fresh, {
      username: 'alice',
      password: 'correct horse battery',
    })
    expect(unlocked.html).toContain('Allow access?')
  })

  it('answers an unknown user exactly like a wrong password', async () => {
    const page = await browser.follow(await browser.get(authorize()))
    const unknown = await browser.submit(page, { username: 'mallory', password: 'whatever1' })
    expect(unknown.status).toBe(401)
    expect(unknown.html).toContain('Invalid username or password.')
  })

  it('refuses a login form without the CSRF token or from another browser', async () => {
    const page = await browser.follow(await browser.get(authorize()))
    const forged = await browser.submit(page, {
      username: 'alice',
      password: 'correct horse battery',
      csrf: 'forged',
    })
    expect(forged.status).toBe(400)
    expect(forged.html).not.toContain('Allow access?')
    const otherBrowser = newBrowser(as)
    const crossSite = await otherBrowser.submit(page, {
      username: 'alice',
      password: 'correct horse battery',
    })
    expect(crossSite.status).toBe(400)
  })
})

describe('TOTP second factor', () => {
  it('asks for the code after the password, refuses a wrong one and a replayed one', async () => {
    const { totpSecret } = await createUser(as.store, createKeyEncryption(as.keyEncryptionKey), {
      username: 'bob',
      password: 'another long password',
      totp: true,
    })
    const code = () => hotp(base32Decode(totpSecret ?? ''), totpStep(as.clock.now()))
    const mfa = await signIn(
      browser,
      await browser.get(authorize()),
      'bob',
      'another long password',
    )
    expect(mfa.html).toContain('one-time code')
    const wrong = await browser.submit(mfa, { code: code() === '000000' ? '111111' : '000000' })
    expect(wrong.status).toBe(401)
    expect(await as.store.queryAuditEvents({ type: 'mfa.failed' })).toHaveLength(1)
    const consent = await browser.submit(wrong, { code: code() })
    expect(consent.html).toContain('Allow access?')
    const params = callbackParams(await browser.submit(consent, { decision: 'allow' }))
    const tokens = (await (await redeem(params.get('code') ?? '')).json()) as Record<string, string>
    expect(decodeJwt(tokens.id_token ?? '').amr).toEqual(['pwd', 'otp'])
    // The same code cannot sign in a second browser.
    const other = newBrowser(as)
    const secondMfa = await signIn(
      other,
      await other.get(authorize()),
      'bob',
      'another long password',
    )
    const replay = await other.submit(secondMfa, { code: code() })
    expect(replay.status).toBe(401)
  })
})

describe('pushed authorization requests (RFC 9126)', () => {
  async function push(params: Record<string, string> = {}) {
    return as.post(
      '/par',
      {
        response_type: 'code',
        redirect_uri: REDIRECT,
        scope: 'openid',
        state: 'p-1',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        ...params,
      },
      { authorization: basic('web', secret) },
    )
  }

  it('accepts a pushed request once', async () => {
    const response = await push()
    expect(response.status).toBe(201)
    const { request_uri } = (await response.json()) as { request_uri: string }
    expect(request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:gpr_/)
    const url = authorizeUrl(as, { client_id: 'web', request_uri })
    const params = await loginAndConsent(url)
    expect(params.get('state')).toBe('p-1')
    const reused = await browser.get(url)
    expect(reused.status).toBe(400)
    expect(reused.location).toBeNull()
  })

  it('validates at push time and answers JSON errors', async () => {
    const response = await push({ code_challenge_method: 'plain' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
    expect((await push({ redirect_uri: 'https://evil.example/' })).status).toBe(400)
  })

  it('refuses a front-channel request from a client that must push', async () => {
    await as.createClient({
      clientId: 'strict',
      grantTypes: ['authorization_code'],
      redirectUris: [REDIRECT],
      requirePushedAuthorizationRequests: true,
    })
    const page = await browser.get(authorize({ client_id: 'strict' }))
    expect(page.status).toBe(400)
    expect(page.location).toBeNull()
  })
})

describe('logout', () => {
  it('ends the session with a valid id_token_hint and returns to the registered URI', async () => {
    const tokens = (await (
      await redeem((await loginAndConsent()).get('code') ?? '')
    ).json()) as Record<string, string>
    const page = await browser.get(
      `${as.url}/logout?${new URLSearchParams({ id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'https://app.example/bye', state: 'bye' })}`,
    )
    expect(page.status).toBe(303)
    expect(page.location).toBe('https://app.example/bye?state=bye')
    const again = await browser.get(authorize())
    expect(again.location).toContain('/interaction?id=')
  })

  it('asks for confirmation without a hint and refuses unregistered return URIs', async () => {
    await loginAndConsent()
    const confirm = await browser.get(`${as.url}/logout`)
    expect(confirm.html).toContain('Sign out?')
    expect((await browser.get(authorize())).location).toContain('https://app.example/')
    const done = await browser.submit(confirm, {})
    expect(done.html).toContain('You are signed out')
    const evil = await browser.get(
      `${as.url}/logout?client_id=web&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`,
    )
    expect(evil.status).toBe(400)
    expect(evil.location).toBeNull()
  })
})

describe('userinfo', () => {
  it('refuses missing, invalid and query-string tokens with a Bearer challenge', async () => {
    const missing = await fetch(`${as.url}/userinfo`)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /)
    const invalid = await fetch(`${as.url}/userinfo`, {
      headers: { authorization: 'Bearer gat_nope' },
    })
    expect(invalid.status).toBe(401)
    const query = await fetch(`${as.url}/userinfo?access_token=x`)
    expect(query.status).toBe(400)
  })

  it('refuses a token without openid with insufficient_scope', async () => {
    const tokens = (await (
      await redeem((await loginAndConsent(authorize({ scope: 'orders:read' }))).get('code') ?? '')
    ).json()) as Record<string, string>
    expect(tokens.id_token).toBeUndefined()
    const response = await fetch(`${as.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ error: 'insufficient_scope' })
    expect(ORDERS_API).toBeTruthy()
  })
})
