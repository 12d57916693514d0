import { createJwtValidator } from '@gatehouse/jwt'
import {
  type CryptoKey,
  compactVerify,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
} from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'

const ORDERS_API = 'https://orders.gatehouse.test'
const BILLING_API = 'https://billing.gatehouse.test'

let as: StartedAuthorizationServer
let metadata: oauth.AuthorizationServer
let signerKey: CryptoKey
let options: { [oauth.customFetch]: StartedAuthorizationServer['customFetch'] }

beforeAll(async () => {
  const signer = await generateKeyPair('ES256', { extractable: true })
  signerKey = signer.privateKey
  as = await startAuthorizationServer({
    clients: [
      {
        clientId: 'external',
        name: 'External partner',
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
      {
        clientId: 'internal',
        name: 'Internal service',
        tokenFormat: 'jwt',
        scopes: ['orders:read', 'orders:write'],
        audiences: [ORDERS_API, BILLING_API],
      },
      {
        clientId: 'poster',
        name: 'Posts its secret',
        tokenEndpointAuthMethod: 'client_secret_post',
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
      {
        clientId: 'signer',
        name: 'private_key_jwt service',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(signer.publicKey)), kid: 'signer-1', alg: 'ES256' }] },
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
      { clientId: 'gateway', name: 'Gateway', scopes: [], audiences: [ORDERS_API] },
    ],
  })
  options = { [oauth.customFetch]: as.customFetch }
  const issuer = new URL(as.issuer)
  metadata = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
  )
})
afterAll(async () => {
  await as?.close()
})

const secretOf = (clientId: string) => oauth.ClientSecretBasic(as.clientSecrets.get(clientId) ?? '')

async function clientCredentials(
  clientId: string,
  auth: oauth.ClientAuth,
  parameters: Record<string, string> = {},
): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.clientCredentialsGrantRequest(
    metadata,
    { client_id: clientId },
    auth,
    parameters,
    options,
  )
  return oauth.processClientCredentialsResponse(metadata, { client_id: clientId }, response)
}

describe('authorization server over HTTPS with oauth4webapi', () => {
  it('is discovered through RFC 8414 metadata', () => {
    expect(metadata.issuer).toBe(as.issuer)
    expect(metadata.token_endpoint).toBe(`${as.issuer}/token`)
    expect(metadata.grant_types_supported).toContain('client_credentials')
  })

  it('issues opaque tokens with client_secret_basic and introspects them as JSON', async () => {
    const tokens = await clientCredentials('external', secretOf('external'), {
      scope: 'orders:read',
    })
    expect(tokens.access_token).toMatch(/^gat_/)
    const response = await oauth.introspectionRequest(
      metadata,
      { client_id: 'gateway' },
      secretOf('gateway'),
      tokens.access_token,
      options,
    )
    const introspection = await oauth.processIntrospectionResponse(
      metadata,
      { client_id: 'gateway' },
      response,
    )
    expect(introspection).toMatchObject({
      active: true,
      client_id: 'external',
      scope: 'orders:read',
      aud: ORDERS_API,
    })
  })

  it('introspects with a signed RFC 9701 response, verifiable with the JWKS', async () => {
    const tokens = await clientCredentials('external', secretOf('external'))
    const response = await oauth.introspectionRequest(
      metadata,
      { client_id: 'gateway' },
      secretOf('gateway'),
      tokens.access_token,
      {
        ...options,
        requestJwtResponse: true,
      },
    )
    const signed = await response.clone().text()
    const introspection = await oauth.processIntrospectionResponse(
      metadata,
      { client_id: 'gateway', introspection_signed_response_alg: 'ES256' },
      response,
    )
    expect(introspection).toMatchObject({ active: true, client_id: 'external' })
    const jwks = (await (await as.fetch(`${as.issuer}/jwks`)).json()) as JSONWebKeySet
    await expect(compactVerify(signed, createLocalJWKSet(jwks))).resolves.toBeTruthy()
  })

  it('gives the gateway the JWT form of an opaque token (phantom token) that @gatehouse/jwt accepts via the JWKS', async () => {
    const tokens = await clientCredentials('external', secretOf('external'))
    const response = await as.fetch(`${as.issuer}/introspect`, {
      method: 'POST',
      headers: {
        accept: 'application/jwt',
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`gateway:${as.clientSecrets.get('gateway')}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    })
    expect(response.headers.get('content-type')).toBe('application/jwt')
    const jwt = await response.text()
    const validator = createJwtValidator({
      issuer: as.issuer,
      audience: ORDERS_API,
      jwksUri: `${as.issuer}/jwks`,
      jwksOptions: { ca: as.ca.cert },
    })
    const verified = await validator.validate(jwt)
    expect(verified.claims).toMatchObject({
      sub: 'external',
      client_id: 'external',
      scope: 'orders:read',
    })
  })

  it('issues RFC 9068 JWTs for internal clients, audience-restricted by RFC 8707 resource', async () => {
    const tokens = await clientCredentials('internal', secretOf('internal'), {
      resource: BILLING_API,
      scope: 'orders:read',
    })
    const validator = (audience: string) =>
      createJwtValidator({
        issuer: as.issuer,
        audience,
        jwksUri: `${as.issuer}/jwks`,
        jwksOptions: { ca: as.ca.cert },
      })
    const verified = await validator(BILLING_API).validate(tokens.access_token)
    expect(verified.claims).toMatchObject({
      aud: BILLING_API,
      scope: 'orders:read',
      client_id: 'internal',
    })
    expect(verified.header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' })
    await expect(validator(ORDERS_API).validate(tokens.access_token)).rejects.toMatchObject({
      code: 'invalid_token',
    })
  })

  it('authenticates with client_secret_post and with private_key_jwt', async () => {
    const posted = await clientCredentials(
      'poster',
      oauth.ClientSecretPost(as.clientSecrets.get('poster') ?? ''),
    )
    expect(posted.access_token).toMatch(/^gat_/)
    const signed = await clientCredentials(
      'signer',
      oauth.PrivateKeyJwt({ key: signerKey, kid: 'signer-1' }),
    )
    expect(signed.access_token).toMatch(/^gat_/)
  })

  it('revokes a token: introspection turns inactive and the revocation event is published', async () => {
    const tokens = await clientCredentials('external', secretOf('external'))
    const revoked = new Promise((resolve) => {
      const unsubscribe = as.server.events.revocations.subscribe((event) => {
        unsubscribe()
        resolve(event)
      })
    })
    const response = await oauth.revocationRequest(
      metadata,
      { client_id: 'external' },
      secretOf('external'),
      tokens.access_token,
      options,
    )
    await oauth.processRevocationResponse(response)
    await expect(revoked).resolves.toMatchObject({
      clientId: 'external',
      tokenType: 'access_token',
    })
    const introspection = await oauth.processIntrospectionResponse(
      metadata,
      { client_id: 'gateway' },
      await oauth.introspectionRequest(
        metadata,
        { client_id: 'gateway' },
        secretOf('gateway'),
        tokens.access_token,
        options,
      ),
    )
    expect(introspection).toEqual({ active: false })
  })
})

describe('client impersonation over HTTPS', () => {
  it('refuses a wrong secret with invalid_client and a Basic challenge', async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      metadata,
      { client_id: 'external' },
      oauth.ClientSecretBasic('gcs_wrong'),
      {},
      options,
    )
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
    expect(await response.clone().json()).toMatchObject({ error: 'invalid_client' })
    // oauth4webapi surfaces the RFC 6749 §5.2 Basic challenge to the client.
    await expect(
      oauth.processClientCredentialsResponse(metadata, { client_id: 'external' }, response),
    ).rejects.toMatchObject({
      code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE',
      status: 401,
    })
  })

  it('refuses the right secret sent by the wrong method', async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      metadata,
      { client_id: 'external' },
      oauth.ClientSecretPost(as.clientSecrets.get('external') ?? ''),
      {},
      options,
    )
    expect(response.status).toBe(401)
  })

  it('refuses a replayed private_key_jwt assertion', async () => {
    let captured = ''
    const capture: StartedAuthorizationServer['customFetch'] = async (url, init) => {
      captured = new URLSearchParams(String(init.body)).get('client_assertion') ?? ''
      return as.customFetch(url, init)
    }
    const first = await oauth.clientCredentialsGrantRequest(
      metadata,
      { client_id: 'signer' },
      oauth.PrivateKeyJwt({ key: signerKey, kid: 'signer-1' }),
      {},
      { [oauth.customFetch]: capture },
    )
    expect(first.status).toBe(200)
    const replay = await as.fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'signer',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: captured,
      }).toString(),
    })
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ error: 'invalid_client' })
  })
})
