/**
 * The authorization server's HTML pages against clickjacking and referrer leakage, and the
 * implicit flow refused (RFC 9700 §2.1.2): over HTTPS, with a real client registration.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowser } from '../support/browser.js'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'

const REDIRECT = 'https://app.example.test/callback'
let as: StartedAuthorizationServer

beforeAll(async () => {
  as = await startAuthorizationServer({
    clients: [
      {
        clientId: 'web-app',
        name: 'Web app',
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code'],
        redirectUris: [REDIRECT],
        scopes: ['orders:read'],
        audiences: ['https://api.example.test/orders'],
      },
    ],
  })
})

afterAll(async () => {
  await as?.close()
})

function authorizeUrl(overrides: Record<string, string>): string {
  const verifier = randomBytes(32).toString('base64url')
  const url = new URL(`${as.issuer}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'web-app',
    redirect_uri: REDIRECT,
    scope: 'orders:read',
    state: 'st-1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...overrides,
  }).toString()
  return url.toString()
}

describe('authorization server pages', () => {
  it('serves the login page with framing forbidden and no referrer (clickjacking, referrer leakage)', async () => {
    const browser = createBrowser(as.issuer, as.fetch)
    const login = await browser.follow(await browser.get(authorizeUrl({})))
    expect(login.location, 'the authorization request was refused').toBeNull()
    expect(login.status).toBe(200)
    expect(login.html).toContain('Sign in')
    expect(login.headers.get('x-frame-options')).toBe('DENY')
    expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(login.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('refuses the implicit flow (response_type=token): no token ever travels in a URL', async () => {
    const page = await createBrowser(as.issuer, as.fetch).get(
      authorizeUrl({ response_type: 'token' }),
    )
    const location = page.location === null ? null : new URL(page.location)
    if (location !== null && location.origin === new URL(REDIRECT).origin) {
      // Redirected back to the client with an error, never with a token.
      expect(location.searchParams.get('error')).toBe('unsupported_response_type')
      expect(location.hash).toBe('')
      expect(page.location).not.toContain('access_token')
    } else {
      expect(page.status).toBeGreaterThanOrEqual(400)
      expect(page.html).not.toContain('access_token=')
    }
  })
})
