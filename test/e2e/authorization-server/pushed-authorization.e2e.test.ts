import { type CryptoKey, exportJWK, generateKeyPair } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowser } from '../support/browser.js'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'

const REDIRECT = 'https://partner.gatehouse.test/cb'
const PASSWORD = 'the partner password'

let as: StartedAuthorizationServer
let metadata: oauth.AuthorizationServer
let options: { [oauth.customFetch]: StartedAuthorizationServer['customFetch'] }
let key: CryptoKey
const partner: oauth.Client = { client_id: 'partner' }
const auth = () => oauth.PrivateKeyJwt({ key, kid: 'partner-1' })

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  key = pair.privateKey
  as = await startAuthorizationServer({
    clients: [
      {
        clientId: 'partner',
        name: 'Partner portal',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'partner-1', alg: 'ES256' }] },
        requirePushedAuthorizationRequests: true,
        grantTypes: ['authorization_code'],
        redirectUris: [REDIRECT],
        scopes: ['orders:read'],
        audiences: ['https://orders.gatehouse.test'],
      },
    ],
    users: [{ username: 'hana', password: PASSWORD, claims: { customer_id: 'c-42' } }],
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

describe('pushed authorization requests (RFC 9126) with private_key_jwt over HTTPS', () => {
  it('pushes the request, signs in with the request_uri and redeems the code with an assertion', async () => {
    const verifier = oauth.generateRandomCodeVerifier()
    const pushed = await oauth.processPushedAuthorizationResponse(
      metadata,
      partner,
      await oauth.pushedAuthorizationRequest(
        metadata,
        partner,
        auth(),
        {
          response_type: 'code',
          redirect_uri: REDIRECT,
          scope: 'orders:read',
          state: 's-1',
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        options,
      ),
    )
    expect(pushed.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/)
    const url = new URL(metadata.authorization_endpoint ?? '')
    url.search = new URLSearchParams({
      client_id: 'partner',
      request_uri: pushed.request_uri,
    }).toString()
    const browser = createBrowser(as.issuer, as.fetch)
    const login = await browser.follow(await browser.get(url.toString()))
    const consent = await browser.submit(login, { username: 'hana', password: PASSWORD })
    expect(consent.html).toContain('Partner portal')
    const callback = await browser.submit(consent, { decision: 'allow' })
    const params = oauth.validateAuthResponse(
      metadata,
      partner,
      new URL(callback.location ?? ''),
      's-1',
    )
    const tokens = await oauth.processAuthorizationCodeResponse(
      metadata,
      partner,
      await oauth.authorizationCodeGrantRequest(
        metadata,
        partner,
        auth(),
        params,
        REDIRECT,
        verifier,
        options,
      ),
    )
    expect(tokens.access_token).toMatch(/^gat_/)
    const reused = await browser.get(url.toString())
    expect(reused.status).toBe(400)
  })

  it('refuses a front-channel request from a client that must push, on a page', async () => {
    const url = new URL(metadata.authorization_endpoint ?? '')
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'partner',
      redirect_uri: REDIRECT,
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString()
    const page = await createBrowser(as.issuer, as.fetch).get(url.toString())
    expect(page.status).toBe(400)
    expect(page.location).toBeNull()
  })
})
