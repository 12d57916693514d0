import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RevocationEvent } from '../events/revocation-bus.js'
import {
  basic,
  ORDERS_API,
  startTestServer,
  TEST_ISSUER,
  type TestServer,
} from '../test-support/test-server.js'

let as: TestServer
let svcSecret: string
let gatewaySecret: string
let otherSecret: string
beforeEach(async () => {
  as = await startTestServer()
  svcSecret = (await as.createClient({ clientId: 'svc' })) as string
  gatewaySecret = (await as.createClient({ clientId: 'gateway' })) as string
  otherSecret = (await as.createClient({ clientId: 'other' })) as string
})
afterEach(async () => {
  await as.close()
})

async function issue(clientId = 'svc', secret = svcSecret): Promise<string> {
  const response = await as.post(
    '/token',
    { grant_type: 'client_credentials' },
    { authorization: basic(clientId, secret) },
  )
  return ((await response.json()) as { access_token: string }).access_token
}

function introspect(token: string, accept?: string): Promise<Response> {
  return as.post(
    '/introspect',
    { token },
    { authorization: basic('gateway', gatewaySecret), ...(accept === undefined ? {} : { accept }) },
  )
}

describe('POST /introspect (RFC 7662)', () => {
  it('describes an active opaque token', async () => {
    const token = await issue()
    const response = await introspect(token)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      active: true,
      token_type: 'Bearer',
      iss: TEST_ISSUER,
      client_id: 'svc',
      sub: 'svc',
      aud: ORDERS_API,
      scope: 'orders:read',
      jti: expect.any(String),
      exp: expect.any(Number),
    })
  })

  it('answers only {"active":false} for expired, unknown, malformed and revoked tokens', async () => {
    const token = await issue()
    const revoked = await issue()
    await as.post('/revoke', { token: revoked }, { authorization: basic('svc', svcSecret) })
    for (const candidate of [
      `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`,
      'gat_junk',
      'eyJhbGciOiJub25lIn0.e30.x',
      revoked,
    ]) {
      expect(await (await introspect(candidate)).json()).toEqual({ active: false })
    }
    as.clock.advance(601_000)
    expect(await (await introspect(token)).json()).toEqual({ active: false })
  })

  it('gives the JWT form of an opaque token (phantom token), signed once and reused', async () => {
    const token = await issue()
    const first = await introspect(token, 'application/jwt')
    expect(first.headers.get('content-type')).toBe('application/jwt')
    const jwt = await first.text()
    expect(decodeProtectedHeader(jwt)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' })
    await compactVerify(jwt, createLocalJWKSet(await as.server.context.keys.jwks()))
    const claims = decodeJwt(jwt)
    expect(claims).toMatchObject({
      iss: TEST_ISSUER,
      aud: ORDERS_API,
      client_id: 'svc',
      scope: 'orders:read',
    })
    expect(await (await introspect(token, 'application/jwt')).text()).toBe(jwt)
    // Kept encrypted at rest: the stored form is not the bearer JWT.
    const record = await as.store.getTokenByJti(String(claims.jti))
    expect(record?.jwt).toMatch(/^v1\./)
    expect(record?.jwt).not.toContain(jwt.split('.')[1])
  })

  it('answers RFC 9701 signed introspection responses', async () => {
    const token = await issue()
    const response = await introspect(token, 'application/token-introspection+jwt')
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt')
    const jwt = await response.text()
    const { protectedHeader } = await compactVerify(
      jwt,
      createLocalJWKSet(await as.server.context.keys.jwks()),
    )
    expect(protectedHeader.typ).toBe('token-introspection+jwt')
    expect(decodeJwt(jwt)).toMatchObject({
      iss: TEST_ISSUER,
      aud: 'gateway',
      token_introspection: { active: true, client_id: 'svc' },
    })
    const inactive = decodeJwt(
      await (await introspect('gat_x', 'application/token-introspection+jwt')).text(),
    )
    expect(inactive.token_introspection).toEqual({ active: false })
  })

  it('refuses unauthenticated callers and public clients', async () => {
    const token = await issue()
    const anonymous = await as.post('/introspect', { token })
    expect(anonymous.status).toBe(401)
    await as.createClient({
      clientId: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
      redirectUris: ['https://spa.example/cb'],
    })
    const publicClient = await as.post('/introspect', { token, client_id: 'spa' })
    expect(publicClient.status).toBe(401)
    expect(await publicClient.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('requires the token parameter, once', async () => {
    const auth = { authorization: basic('gateway', gatewaySecret) }
    expect((await as.post('/introspect', {}, auth)).status).toBe(400)
    expect((await as.post('/introspect', 'token=a&token=b', auth)).status).toBe(400)
  })
})

describe('POST /revoke (RFC 7009)', () => {
  it('revokes the token, publishes the event with the token hash, and audits it', async () => {
    const events: RevocationEvent[] = []
    as.server.events.revocations.subscribe((event) => events.push(event))
    const token = await issue()
    const response = await as.post(
      '/revoke',
      { token, token_type_hint: 'access_token' },
      { authorization: basic('svc', svcSecret) },
    )
    expect(response.status).toBe(200)
    expect(events).toHaveLength(1)
    const { tokenHash } = await import('../tokens/token-hash.js')
    expect(events[0]).toMatchObject({
      tokenHash: tokenHash(token),
      tokenType: 'access_token',
      clientId: 'svc',
      reason: 'revoked',
    })
    expect(await (await introspect(token)).json()).toEqual({ active: false })
    await as.server.close()
    const [audit] = await as.store.queryAuditEvents({ type: 'token.revoked' })
    expect(audit?.tokenId).toBe(events[0]?.jti)
  })

  it('answers 200 for unknown and already revoked tokens without publishing anything', async () => {
    const events: RevocationEvent[] = []
    as.server.events.revocations.subscribe((event) => events.push(event))
    const token = await issue()
    const auth = { authorization: basic('svc', svcSecret) }
    await as.post('/revoke', { token }, auth)
    expect((await as.post('/revoke', { token }, auth)).status).toBe(200)
    expect((await as.post('/revoke', { token: 'gat_unknown' }, auth)).status).toBe(200)
    expect(events).toHaveLength(1)
  })

  it("refuses to revoke another client's token and leaves it active", async () => {
    const token = await issue()
    const response = await as.post(
      '/revoke',
      { token },
      { authorization: basic('other', otherSecret) },
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
    expect(await (await introspect(token)).json()).toMatchObject({ active: true })
  })

  it('refuses unauthenticated revocation', async () => {
    const token = await issue()
    expect((await as.post('/revoke', { token })).status).toBe(401)
    expect(await (await introspect(token)).json()).toMatchObject({ active: true })
  })
})

describe('discovery and JWKS', () => {
  it('publishes RFC 8414 and OpenID metadata listing exactly the supported features', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      const response = await fetch(`${as.url}${path}`)
      expect(response.status).toBe(200)
      const metadata = (await response.json()) as Record<string, unknown>
      expect(metadata).toMatchObject({
        issuer: TEST_ISSUER,
        token_endpoint: `${TEST_ISSUER}/token`,
        jwks_uri: `${TEST_ISSUER}/jwks`,
        introspection_endpoint: `${TEST_ISSUER}/introspect`,
        revocation_endpoint: `${TEST_ISSUER}/revoke`,
        token_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'none',
        ],
      })
      expect(metadata.grant_types_supported).toContain('client_credentials')
      expect(metadata.grant_types_supported).not.toContain('implicit')
      expect(metadata.grant_types_supported).not.toContain('password')
    }
  })

  it('serves the public keys with Cache-Control and no private members', async () => {
    const response = await fetch(`${as.url}/jwks`)
    expect(response.headers.get('cache-control')).toBe('public, max-age=300')
    expect(response.headers.get('pragma')).toBeNull()
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] }
    expect(keys).toHaveLength(2)
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
      expect(key.d).toBeUndefined()
    }
  })
})

describe('introspection restricted to allowed callers', () => {
  it("shows other clients' tokens only to the configured callers, and a client's own tokens always", async () => {
    const closed = await startTestServer({ introspection: { allowedClients: ['gateway'] } })
    const secrets = {
      svc: (await closed.createClient({ clientId: 'svc' })) as string,
      gateway: (await closed.createClient({ clientId: 'gateway' })) as string,
      partner: (await closed.createClient({ clientId: 'partner' })) as string,
    }
    const issued = await closed.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', secrets.svc) },
    )
    const token = ((await issued.json()) as { access_token: string }).access_token
    const introspectAs = async (clientId: keyof typeof secrets) =>
      (await (
        await closed.post(
          '/introspect',
          { token },
          { authorization: basic(clientId, secrets[clientId]) },
        )
      ).json()) as { active: boolean }
    expect((await introspectAs('gateway')).active).toBe(true)
    expect((await introspectAs('svc')).active).toBe(true)
    expect(await introspectAs('partner')).toEqual({ active: false })
    await closed.close()
  })
})

describe('revocation when the event bus is down', () => {
  it('still revokes and answers 200, reporting the bus failure', async () => {
    const errors: unknown[] = []
    const broken = await startTestServer(
      {},
      {
        revocations: {
          publish: async () => {
            throw new Error('bus down')
          },
          subscribe: () => () => {},
        },
        onError: (error) => errors.push(error),
      },
    )
    const secret = (await broken.createClient({ clientId: 'svc' })) as string
    const auth = { authorization: basic('svc', secret) }
    const issued = await broken.post('/token', { grant_type: 'client_credentials' }, auth)
    const token = ((await issued.json()) as { access_token: string }).access_token
    expect((await broken.post('/revoke', { token }, auth)).status).toBe(200)
    expect(await (await broken.post('/introspect', { token }, auth)).json()).toEqual({
      active: false,
    })
    expect(errors).toHaveLength(1)
    await broken.close()
  })
})
