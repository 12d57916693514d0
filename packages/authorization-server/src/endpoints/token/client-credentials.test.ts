import { randomUUID } from 'node:crypto'
import { createJwtValidator } from '@gatehouse/jwt'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BILLING_API,
  basic,
  ORDERS_API,
  startTestServer,
  TEST_ISSUER,
  type TestServer,
} from '../../test-support/test-server.js'

let as: TestServer
let secret: string
beforeEach(async () => {
  as = await startTestServer()
  secret = (await as.createClient({
    clientId: 'svc',
    scopes: ['orders:read', 'orders:write'],
    audiences: [ORDERS_API, BILLING_API],
  })) as string
})
afterEach(async () => {
  await as.close()
})

async function tokenCount(): Promise<number> {
  return (await as.store.queryAuditEvents({ type: 'token.issued' })).length
}

describe('POST /token client_credentials', () => {
  it('issues an opaque token with prefix, lifetime, scope and no-store', async () => {
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials', scope: 'orders:read' },
      { authorization: basic('svc', secret) },
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'orders:read' })
    expect(body.access_token).toMatch(/^gat_[0-9A-Za-z]{49}$/)
    expect(body.refresh_token).toBeUndefined()
  })

  it('grants the registered scopes when none are requested', async () => {
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', secret) },
    )
    expect(await response.json()).toMatchObject({ scope: 'orders:read orders:write' })
  })

  it('issues an RFC 9068 at+jwt that @gatehouse/jwt accepts for the requested resource only', async () => {
    const jwtSecret = await as.createClient({
      clientId: 'internal',
      tokenFormat: 'jwt',
      scopes: ['orders:read'],
      audiences: [ORDERS_API, BILLING_API],
    })
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials', resource: BILLING_API },
      { authorization: basic('internal', jwtSecret ?? '') },
    )
    const { access_token } = (await response.json()) as { access_token: string }
    const jwks = await as.server.context.keys.jwks()
    const validator = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: BILLING_API,
      jwks,
      now: as.clock.now,
    })
    const verified = await validator.validate(access_token)
    expect(verified.claims).toMatchObject({
      sub: 'internal',
      client_id: 'internal',
      scope: 'orders:read',
      aud: BILLING_API,
    })
    expect(verified.header.typ).toBe('at+jwt')
    // Audience confusion: the same token is refused by the orders API.
    const orders = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: ORDERS_API,
      jwks,
      now: as.clock.now,
    })
    await expect(orders.validate(access_token)).rejects.toMatchObject({ code: 'invalid_token' })
  })

  it('accepts client_secret_post for a client registered with it', async () => {
    const postSecret = await as.createClient({
      clientId: 'poster',
      tokenEndpointAuthMethod: 'client_secret_post',
    })
    const response = await as.post('/token', {
      grant_type: 'client_credentials',
      client_id: 'poster',
      client_secret: postSecret ?? '',
    })
    expect(response.status).toBe(200)
  })
})

describe('client authentication attacks on /token', () => {
  async function expectInvalidClient(response: Response, basicChallenge: boolean) {
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: 'invalid_client' })
    expect(response.headers.get('www-authenticate') !== null).toBe(basicChallenge)
  }

  it('refuses a wrong secret with 401 invalid_client and a Basic challenge, and audits it', async () => {
    const before = await tokenCount()
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', `${secret}x`) },
    )
    await expectInvalidClient(response, true)
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
    expect(await tokenCount()).toBe(before)
    await as.server.close()
    const [event] = await as.store.queryAuditEvents({ type: 'client.auth_failed' })
    expect(event).toMatchObject({ clientId: 'svc', reason: 'client_auth.wrong_secret' })
    expect(JSON.stringify(event)).not.toContain(secret)
  })

  it('refuses an unknown client exactly like a wrong secret', async () => {
    const unknown = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('nobody', secret) },
    )
    const wrong = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', 'x') },
    )
    expect(unknown.status).toBe(401)
    expect(unknown.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'))
    expect(await unknown.text()).toBe(await wrong.text())
  })

  it('refuses the right secret sent with a method the client did not register (post for a basic client)', async () => {
    const response = await as.post('/token', {
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: secret,
    })
    await expectInvalidClient(response, true)
  })

  it('refuses a confidential client pretending to be public (no credentials)', async () => {
    const response = await as.post('/token', { grant_type: 'client_credentials', client_id: 'svc' })
    await expectInvalidClient(response, true)
  })

  it('refuses two authentication methods at once with invalid_request', async () => {
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials', client_id: 'svc', client_secret: secret },
      { authorization: basic('svc', secret) },
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('refuses a public client on client_credentials', async () => {
    await as.createClient({
      clientId: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
      redirectUris: ['https://spa.example/cb'],
    })
    const response = await as.post('/token', { grant_type: 'client_credentials', client_id: 'spa' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'unauthorized_client' })
  })
})

describe('private_key_jwt (RFC 7523)', () => {
  let privateKey: CryptoKey
  beforeEach(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true })
    privateKey = pair.privateKey
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }
    await as.createClient({
      clientId: 'signer',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [publicJwk] },
    })
  })

  async function assertion(
    overrides: Record<string, unknown> = {},
    key = privateKey,
  ): Promise<string> {
    const now = Math.floor(as.clock.now() / 1000)
    return new SignJWT({
      iss: 'signer',
      sub: 'signer',
      aud: TEST_ISSUER,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...overrides,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(key)
  }

  const form = (clientAssertion: string) => ({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
  })

  it('accepts a fresh assertion and refuses its replay', async () => {
    const signed = await assertion()
    expect((await as.post('/token', form(signed))).status).toBe(200)
    const replay = await as.post('/token', form(signed))
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('accepts the token endpoint URL as audience', async () => {
    expect(
      (await as.post('/token', form(await assertion({ aud: `${TEST_ISSUER}/token` })))).status,
    ).toBe(200)
  })

  it.each([
    ['another audience', { aud: 'https://elsewhere.example' }],
    ['an expired assertion', { exp: Math.floor(Date.parse('2026-03-01T11:00:00Z') / 1000) }],
    [
      'an assertion living too long to track',
      { exp: Math.floor(Date.parse('2026-03-01T14:00:00Z') / 1000) },
    ],
    ['no jti', { jti: undefined }],
    ['iss differing from sub', { iss: 'someone-else' }],
  ])('refuses %s', async (_name, overrides) => {
    const response = await as.post('/token', form(await assertion(overrides)))
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('refuses an assertion signed by another key', async () => {
    const other = await generateKeyPair('ES256')
    const response = await as.post('/token', form(await assertion({}, other.privateKey)))
    expect(response.status).toBe(401)
  })

  it('refuses a client secret for a private_key_jwt client (wrong method)', async () => {
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('signer', secret) },
    )
    expect(response.status).toBe(401)
  })
})

describe('bad input on /token', () => {
  const auth = () => ({ authorization: basic('svc', secret) })

  it.each([
    [
      'a repeated parameter',
      'grant_type=client_credentials&scope=orders:read&scope=orders:write',
      'invalid_request',
    ],
    [
      'a repeated grant_type',
      'grant_type=client_credentials&grant_type=client_credentials',
      'invalid_request',
    ],
    ['no grant_type', 'scope=orders:read', 'invalid_request'],
    ['an unknown grant_type', 'grant_type=password', 'unsupported_grant_type'],
    ['the implicit-era grant', 'grant_type=implicit', 'unsupported_grant_type'],
    [
      'a scope the client may not have',
      'grant_type=client_credentials&scope=admin',
      'invalid_scope',
    ],
    ['an unknown scope', 'grant_type=client_credentials&scope=nope', 'invalid_scope'],
    [
      'a malformed scope',
      'grant_type=client_credentials&scope=orders:read%20%20x',
      'invalid_scope',
    ],
    [
      'a resource not registered for the client',
      'grant_type=client_credentials&resource=https://evil.example/',
      'invalid_target',
    ],
    [
      'two resources (audience confusion)',
      `grant_type=client_credentials&resource=${ORDERS_API}&resource=${BILLING_API}`,
      'invalid_target',
    ],
    [
      'a resource with a fragment',
      `grant_type=client_credentials&resource=${ORDERS_API}%23x`,
      'invalid_target',
    ],
    [
      'a grant the client may not use',
      'grant_type=refresh_token&refresh_token=x',
      'unauthorized_client',
    ],
  ])('answers %s with %s and issues nothing', async (_name, body, error) => {
    const before = await tokenCount()
    const response = await as.post('/token', body, auth())
    expect(response.status).toBe(400)
    const json = (await response.json()) as Record<string, unknown>
    expect(json.error).toBe(error)
    expect(JSON.stringify(json)).not.toMatch(/stack|at \//)
    expect(await tokenCount()).toBe(before)
  })

  it('refuses another media type, an oversized body and other methods', async () => {
    const json = await fetch(`${as.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    })
    expect(json.status).toBe(400)
    expect(await json.json()).toMatchObject({ error: 'invalid_request' })
    const big = await as.post(
      '/token',
      `grant_type=client_credentials&x=${'a'.repeat(20_000)}`,
      auth(),
    )
    expect(big.status).toBe(413)
    const get = await fetch(`${as.url}/token`)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })

  it('answers unknown paths with 404 JSON', async () => {
    const response = await fetch(`${as.url}/nope`)
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: 'not_found' })
  })
})
