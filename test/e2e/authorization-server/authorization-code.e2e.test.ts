import { rotateKeys } from '@gatehouse/authorization-server'
import { createJwtValidator } from '@gatehouse/jwt'
import { decodeProtectedHeader } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowser } from '../support/browser.js'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'

const ORDERS_API = 'https://orders.gatehouse.test'
const BILLING_API = 'https://billing.gatehouse.test'
const REDIRECT = 'http://127.0.0.1:53682/callback'
const PASSWORD = 'correct horse battery staple'

let as: StartedAuthorizationServer
let metadata: oauth.AuthorizationServer
let options: { [oauth.customFetch]: StartedAuthorizationServer['customFetch'] }
// oauth4webapi checks ID-token times against the real clock, so the server's clock starts at now.
let clock = Date.now()
const spa: oauth.Client = { client_id: 'spa', id_token_signed_response_alg: 'ES256' }

beforeAll(async () => {
  as = await startAuthorizationServer({
    now: () => clock,
    config: { keys: { jwksMaxAgeSeconds: 60 }, tokens: { accessTokenTtlSeconds: 300 } },
    clients: [
      {
        clientId: 'spa',
        name: 'Orders SPA',
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [REDIRECT],
        scopes: ['openid', 'profile', 'orders:read', 'orders:write'],
        audiences: [ORDERS_API],
      },
      {
        clientId: 'orders-service',
        name: 'Orders service',
        tokenFormat: 'jwt',
        grantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange'],
        scopes: ['orders:read'],
        audiences: [BILLING_API],
      },
    ],
    users: [
      { username: 'carol', password: PASSWORD, claims: { customer_id: 'cust-7', name: 'Carol' } },
    ],
  })
  options = { [oauth.customFetch]: as.customFetch }
  const issuer = new URL(as.issuer)
  metadata = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }),
  )
})
afterAll(async () => {
  await as?.close()
})

async function authorizationCodeFlow(scope: string): Promise<oauth.TokenEndpointResponse> {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const url = new URL(metadata.authorization_endpoint ?? '')
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'spa',
    redirect_uri: REDIRECT,
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString()
  const browser = createBrowser(as.issuer, as.fetch)
  const login = await browser.follow(await browser.get(url.toString()))
  expect(login.html).toContain('Sign in')
  const afterLogin = await browser.submit(login, { username: 'carol', password: PASSWORD })
  // Consent is asked once per client and scope set; later flows go straight back to the client.
  const callback = afterLogin.location?.startsWith(REDIRECT)
    ? afterLogin
    : await browser.submit(afterLogin, { decision: 'allow' })
  expect(callback.location?.startsWith(REDIRECT)).toBe(true)
  const params = oauth.validateAuthResponse(metadata, spa, new URL(callback.location ?? ''), state)
  const response = await oauth.authorizationCodeGrantRequest(
    metadata,
    spa,
    oauth.None(),
    params,
    REDIRECT,
    verifier,
    options,
  )
  return oauth.processAuthorizationCodeResponse(
    metadata,
    spa,
    response,
    scope.includes('openid') ? { expectedNonce: nonce, requireIdToken: true } : {},
  )
}

describe('authorization code + PKCE with oauth4webapi over HTTPS', () => {
  it('discovers OpenID metadata with S256 only and the iss response parameter', () => {
    expect(metadata.code_challenge_methods_supported).toEqual(['S256'])
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true)
    expect(metadata.response_types_supported).toEqual(['code'])
  })

  it('signs in through the login and consent pages, validates the ID token and reads userinfo', async () => {
    const tokens = await authorizationCodeFlow('openid profile orders:read')
    const idToken = oauth.getValidatedIdTokenClaims(tokens)
    expect(idToken).toMatchObject({
      iss: as.issuer,
      aud: 'spa',
      name: 'Carol',
      customer_id: 'cust-7',
    })
    const userinfo = await oauth.processUserInfoResponse(
      metadata,
      spa,
      idToken?.sub ?? '',
      await oauth.userInfoRequest(metadata, spa, tokens.access_token, options),
    )
    expect(userinfo).toMatchObject({ name: 'Carol', customer_id: 'cust-7' })
  })

  it('rotates the refresh token and detects its reuse', async () => {
    const tokens = await authorizationCodeFlow('orders:read')
    const first = tokens.refresh_token ?? ''
    const rotated = await oauth.processRefreshTokenResponse(
      metadata,
      spa,
      await oauth.refreshTokenGrantRequest(metadata, spa, oauth.None(), first, options),
    )
    expect(rotated.refresh_token).not.toBe(first)
    const reuse = await oauth.refreshTokenGrantRequest(metadata, spa, oauth.None(), first, options)
    await expect(oauth.processRefreshTokenResponse(metadata, spa, reuse)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    const afterReuse = await oauth.refreshTokenGrantRequest(
      metadata,
      spa,
      oauth.None(),
      rotated.refresh_token ?? '',
      options,
    )
    await expect(
      oauth.processRefreshTokenResponse(metadata, spa, afterReuse),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('lets a service exchange the user token for a down-scoped JWT for another API', async () => {
    const tokens = await authorizationCodeFlow('orders:read orders:write')
    const service: oauth.Client = { client_id: 'orders-service' }
    const response = await oauth.genericTokenEndpointRequest(
      metadata,
      service,
      oauth.ClientSecretBasic(as.clientSecrets.get('orders-service') ?? ''),
      'urn:ietf:params:oauth:grant-type:token-exchange',
      {
        subject_token: tokens.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: BILLING_API,
        scope: 'orders:read',
      },
      options,
    )
    const exchanged = await oauth.processGenericTokenEndpointResponse(metadata, service, response)
    const validator = createJwtValidator({
      issuer: as.issuer,
      audience: BILLING_API,
      jwksUri: metadata.jwks_uri ?? '',
      jwksOptions: { ca: as.ca.cert },
      now: () => clock,
    })
    const verified = await validator.validate(exchanged.access_token)
    expect(verified.claims).toMatchObject({
      scope: 'orders:read',
      customer_id: 'cust-7',
      act: { sub: 'orders-service' },
    })
  })
})

describe('key rotation end to end', () => {
  it('keeps old tokens valid, signs new ones with the published next key, and drops retired keys after their tokens expired', async () => {
    const service: oauth.Client = { client_id: 'orders-service' }
    const exchange = async () => {
      const user = await authorizationCodeFlow('orders:read')
      const response = await oauth.genericTokenEndpointRequest(
        metadata,
        service,
        oauth.ClientSecretBasic(as.clientSecrets.get('orders-service') ?? ''),
        'urn:ietf:params:oauth:grant-type:token-exchange',
        {
          subject_token: user.access_token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          resource: BILLING_API,
        },
        options,
      )
      return (await oauth.processGenericTokenEndpointResponse(metadata, service, response))
        .access_token
    }
    const jwks = async () =>
      (
        (await (await as.fetch(metadata.jwks_uri ?? '')).json()) as { keys: { kid: string }[] }
      ).keys.map((key) => key.kid)
    const validator = createJwtValidator({
      issuer: as.issuer,
      audience: BILLING_API,
      jwksUri: metadata.jwks_uri ?? '',
      jwksOptions: { ca: as.ca.cert, cooldownMs: 0 },
      now: () => clock,
    })
    const before = await exchange()
    const oldKid = decodeProtectedHeader(before).kid
    const published = await jwks()
    clock += 2 * 60_000
    const rotation = await rotateKeys(as.store, as.server.context.config, as.secrets, {
      now: clock,
    })
    as.server.context.keys.invalidate()
    expect(rotation.retired).toBe(oldKid)
    expect(published).toContain(rotation.activated)
    const after = await exchange()
    expect(decodeProtectedHeader(after).kid).toBe(rotation.activated)
    await expect(validator.validate(before)).resolves.toBeTruthy()
    await expect(validator.validate(after)).resolves.toBeTruthy()
    expect(await jwks()).toContain(oldKid)
    // Retired keys stay for the longest token lifetime (ID tokens: 600 s) plus clock skew.
    clock += 11 * 60_000
    as.server.context.keys.invalidate()
    expect(await jwks()).not.toContain(oldKid)
  })
})
