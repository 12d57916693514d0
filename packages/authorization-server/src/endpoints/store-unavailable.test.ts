import { afterEach, describe, expect, it, vi } from 'vitest'
import { createUser } from '../admin/users.js'
import { storeUnavailable } from '../errors.js'
import { createKeyEncryption } from '../keys/key-encryption.js'
import { authorizeUrl, createPkce, newBrowser } from '../test-support/authorization-flow.js'
import { basic, startTestServer, type TestServer } from '../test-support/test-server.js'

let as: TestServer | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await as?.close()
  as = undefined
})

/** What the PostgreSQL driver throws when the database cannot be reached (store/postgres.ts). */
const storeDown = () =>
  storeUnavailable(
    Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
  )

describe('the store is unreachable', () => {
  it('answers 503 temporarily_unavailable with Retry-After, logs it, and leaks nothing', async () => {
    const lines: string[] = []
    const { default: pino } = await import('pino')
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    as = await startTestServer({}, { logger })
    const secret = await as.createClient({
      clientId: 'svc',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    })
    vi.spyOn(as.store, 'getClient').mockRejectedValue(storeDown())
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', secret ?? '') },
    )
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    const body = await response.text()
    expect(JSON.parse(body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the authorization server cannot reach its store; try again shortly',
    })
    expect(body).not.toContain('10.0.0.5')
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'store unavailable',
        reason: 'store.unavailable',
        cause: 'ECONNREFUSED',
      }),
    )
    expect(lines.join('')).not.toContain('10.0.0.5')
    expect(lines.join('')).not.toContain(secret)
  })

  it('answers introspection and revocation callers the same way', async () => {
    as = await startTestServer()
    const secret = await as.createClient({
      clientId: 'gateway',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    })
    vi.spyOn(as.store, 'getClient').mockRejectedValue(storeDown())
    for (const path of ['/introspect', '/revoke']) {
      const response = await as.post(
        path,
        { token: 'x' },
        { authorization: basic('gateway', secret ?? '') },
      )
      expect(response.status, path).toBe(503)
      expect(await response.json(), path).toMatchObject({ error: 'temporarily_unavailable' })
    }
  })
})

describe('the store fails while a person signs in', () => {
  const REDIRECT = 'https://app.example/callback'

  async function startWithWebClient(): Promise<{ as: TestServer; url: string }> {
    const server = await startTestServer()
    await server.createClient({
      clientId: 'web',
      grantTypes: ['authorization_code'],
      redirectUris: [REDIRECT],
      scopes: ['openid', 'orders:read'],
    })
    await createUser(server.store, createKeyEncryption(server.keyEncryptionKey), {
      username: 'alice',
      password: 'correct horse battery',
      claims: {},
    })
    const url = authorizeUrl(server, {
      response_type: 'code',
      client_id: 'web',
      redirect_uri: REDIRECT,
      scope: 'openid orders:read',
      state: 'st-1',
      code_challenge: createPkce().challenge,
      code_challenge_method: 'S256',
    })
    return { as: server, url }
  }

  function expectPage(page: { status: number; headers: Headers; html: string }, status: number) {
    expect(page.status).toBe(status)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page.html).toMatch(/^<!doctype html>/)
  }

  it('shows a 503 page with Retry-After at /authorize, not JSON and not a redirect', async () => {
    const started = await startWithWebClient()
    as = started.as
    vi.spyOn(as.store, 'getClient').mockRejectedValue(storeDown())
    const page = await newBrowser(as).get(started.url)
    expectPage(page, 503)
    expect(page.headers.get('retry-after')).toBe('5')
    expect(page.location).toBeNull()
    expect(page.html).toContain('Sign-in is temporarily unavailable')
    expect(page.html).toContain('temporarily_unavailable')
    expect(page.html).not.toContain('10.0.0.5')
    expect(page.html).not.toContain('ECONNREFUSED')
  })

  it('shows the same page when the login form is submitted, and the user can sign in afterwards', async () => {
    const started = await startWithWebClient()
    as = started.as
    const browser = newBrowser(as)
    const loginPage = await browser.follow(await browser.get(started.url))
    expect(loginPage.html).toContain('name="password"')
    const lookup = vi.spyOn(as.store, 'getUserByUsername').mockRejectedValueOnce(storeDown())
    const failed = await browser.submit(loginPage, {
      username: 'alice',
      password: 'correct horse battery',
    })
    expectPage(failed, 503)
    expect(failed.html).not.toContain('correct horse battery')
    expect(lookup).toHaveBeenCalledTimes(1)
    // Nothing was spent: the same form works once the store is back.
    const retried = await browser.submit(loginPage, {
      username: 'alice',
      password: 'correct horse battery',
    })
    expect(retried.html).toContain('Allow access?')
  })

  it('shows a generic 500 page for an internal failure, without its message', async () => {
    const started = await startWithWebClient()
    as = started.as
    vi.spyOn(as.store, 'getClient').mockRejectedValue(
      new Error('SQLITE_IOERR: disk I/O error at /var/lib/gatehouse/gatehouse.sqlite'),
    )
    const page = await newBrowser(as).get(started.url)
    expectPage(page, 500)
    expect(page.html).toContain('server_error')
    expect(page.html).not.toContain('SQLITE_IOERR')
    expect(page.html).not.toContain('/var/lib/gatehouse')
  })

  it('keeps the OAuth form of errors the endpoint exposes on purpose (405 with Allow)', async () => {
    as = await startTestServer()
    const response = await fetch(`${as.url}/authorize`, { method: 'PUT' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, POST')
    expect(await response.json()).toMatchObject({ error: 'method_not_allowed' })
  })
})
