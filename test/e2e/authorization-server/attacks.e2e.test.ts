import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowser } from '../support/browser.js'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'

const REDIRECT = 'https://app.gatehouse.test/callback'
const PASSWORD = 'a strong enough password'

let as: StartedAuthorizationServer
let metadata: oauth.AuthorizationServer
let options: { [oauth.customFetch]: StartedAuthorizationServer['customFetch'] }
const web: oauth.Client = { client_id: 'web' }

beforeAll(async () => {
  as = await startAuthorizationServer({
    config: { login: { maxFailedAttempts: 3 } },
    clients: [
      {
        clientId: 'web',
        name: 'Web app',
        firstParty: true,
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [REDIRECT],
        scopes: ['orders:read', 'orders:write'],
        audiences: ['https://orders.gatehouse.test'],
      },
    ],
    users: [
      { username: 'erin', password: PASSWORD },
      { username: 'frank', password: PASSWORD },
    ],
  })
  options = { [oauth.customFetch]: as.customFetch }
  const issuer = new URL(as.issuer)
  metadata = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, options),
  )
})
afterAll(async () => {
  await as?.close()
})

const auth = () => oauth.ClientSecretBasic(as.clientSecrets.get('web') ?? '')

async function authorizeUrl(
  verifier: string,
  overrides: Record<string, string> = {},
): Promise<string> {
  const url = new URL(metadata.authorization_endpoint ?? '')
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'web',
    redirect_uri: REDIRECT,
    scope: 'orders:read',
    state: 'xyz',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...overrides,
  }).toString()
  return url.toString()
}

async function codeFor(username: string, verifier: string): Promise<URLSearchParams> {
  const browser = createBrowser(as.issuer, as.fetch)
  const login = await browser.follow(await browser.get(await authorizeUrl(verifier)))
  const callback = await browser.submit(login, { username, password: PASSWORD })
  return oauth.validateAuthResponse(metadata, web, new URL(callback.location ?? ''), 'xyz')
}

describe('attacks on the code flow over HTTPS', () => {
  it.each([
    ['suffix', `${REDIRECT}.evil.example`],
    ['prefix', 'https://app.gatehouse.test/'],
    ['case', 'https://APP.gatehouse.test/callback'],
    ['added path', `${REDIRECT}/more`],
    ['userinfo', 'https://app.gatehouse.test@evil.example/callback'],
    ['encoded characters', 'https://app.gatehouse.test/%63allback'],
  ])('never redirects to a manipulated redirect URI (%s)', async (_name, redirectUri) => {
    const browser = createBrowser(as.issuer, as.fetch)
    const page = await browser.get(
      await authorizeUrl(oauth.generateRandomCodeVerifier(), { redirect_uri: redirectUri }),
    )
    expect(page.status).toBe(400)
    expect(page.location).toBeNull()
  })

  it('refuses PKCE downgrades: plain at /authorize, a wrong verifier at /token', async () => {
    const browser = createBrowser(as.issuer, as.fetch)
    const plain = await browser.get(
      await authorizeUrl('x'.repeat(43), {
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'plain',
      }),
    )
    expect(new URL(plain.location ?? '').searchParams.get('error')).toBe('invalid_request')
    const verifier = oauth.generateRandomCodeVerifier()
    const params = await codeFor('erin', verifier)
    const wrong = await oauth.authorizationCodeGrantRequest(
      metadata,
      web,
      auth(),
      params,
      REDIRECT,
      oauth.generateRandomCodeVerifier(),
      options,
    )
    await expect(
      oauth.processAuthorizationCodeResponse(metadata, web, wrong),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('revokes the tokens of a replayed code', async () => {
    const verifier = oauth.generateRandomCodeVerifier()
    const params = await codeFor('erin', verifier)
    const first = await oauth.processAuthorizationCodeResponse(
      metadata,
      web,
      await oauth.authorizationCodeGrantRequest(
        metadata,
        web,
        auth(),
        params,
        REDIRECT,
        verifier,
        options,
      ),
    )
    const replay = await oauth.authorizationCodeGrantRequest(
      metadata,
      web,
      auth(),
      params,
      REDIRECT,
      verifier,
      options,
    )
    await expect(
      oauth.processAuthorizationCodeResponse(metadata, web, replay),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
    const introspection = await oauth.processIntrospectionResponse(
      metadata,
      web,
      await oauth.introspectionRequest(metadata, web, auth(), first.access_token, options),
    )
    expect(introspection).toEqual({ active: false })
  })

  it('refuses scope escalation on refresh', async () => {
    const verifier = oauth.generateRandomCodeVerifier()
    const params = await codeFor('erin', verifier)
    const tokens = await oauth.processAuthorizationCodeResponse(
      metadata,
      web,
      await oauth.authorizationCodeGrantRequest(
        metadata,
        web,
        auth(),
        params,
        REDIRECT,
        verifier,
        options,
      ),
    )
    const escalate = await oauth.refreshTokenGrantRequest(
      metadata,
      web,
      auth(),
      tokens.refresh_token ?? '',
      {
        ...options,
        additionalParameters: { scope: 'orders:read orders:write' },
      },
    )
    await expect(oauth.processRefreshTokenResponse(metadata, web, escalate)).rejects.toMatchObject({
      error: 'invalid_scope',
    })
  })

  it('locks an account after repeated wrong passwords, even against the right one', async () => {
    const browser = createBrowser(as.issuer, as.fetch)
    let page = await browser.follow(
      await browser.get(await authorizeUrl(oauth.generateRandomCodeVerifier())),
    )
    for (let attempt = 0; attempt < 3; attempt++) {
      page = await browser.submit(page, { username: 'frank', password: `guess-${attempt}` })
      expect(page.status).toBe(401)
    }
    const locked = await browser.submit(page, { username: 'frank', password: PASSWORD })
    expect(locked.status).toBe(429)
    expect(locked.location).toBeNull()
  })
})
