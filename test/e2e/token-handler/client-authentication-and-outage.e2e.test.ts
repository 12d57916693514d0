import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '../support/start-authorization-server.js'
import {
  PASSWORD,
  REDIRECT_URI,
  type StartedTokenHandler,
  startTokenHandler,
} from './support/start-token-handler.js'

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
let as: StartedAuthorizationServer
let th: StartedTokenHandler
let asClosed = false

beforeAll(async () => {
  as = await startAuthorizationServer({
    clients: [
      {
        clientId: 'spa-agent-pkjwt',
        name: 'Orders SPA',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'th-1', alg: 'ES256' }] },
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: [REDIRECT_URI],
        scopes: ['openid', 'profile', 'orders:read'],
        audiences: ['https://orders.gatehouse.test'],
        firstParty: true,
        requirePushedAuthorizationRequests: true,
      },
    ],
    users: [{ username: 'erin', password: PASSWORD, claims: { name: 'Erin' } }],
  })
  th = await startTokenHandler(as, {
    clientId: 'spa-agent-pkjwt',
    config: {
      client: {
        id: 'spa-agent-pkjwt',
        authentication: {
          method: 'private_key_jwt',
          privateKey: { env: 'TH_PRIVATE_KEY' },
          algorithm: 'ES256',
          keyId: 'th-1',
        },
      },
    },
    env: { TH_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
  })
})
afterAll(async () => {
  await th?.close()
  if (!asClosed) await as?.close()
})

describe('a private_key_jwt token handler that must use PAR', () => {
  it('logs in, refreshes and logs out with signed client assertions', async () => {
    const spa = th.spa()
    const csrf = await spa.login('erin')
    expect((await spa.send('GET', '/session')).body).toMatchObject({
      isLoggedIn: true,
      claims: { name: 'Erin' },
    })
    expect((await spa.send('POST', '/refresh', { csrf })).status).toBe(200)
    const logout = await spa.send('POST', '/logout', { csrf })
    expect(logout.body.revoked).toBe(true)
  })
})

describe('an authorization-server outage', () => {
  it('answers 503 authorization_server_unavailable, never 401, and keeps the session cookies', async () => {
    const spa = th.spa()
    const csrf = await spa.login('erin')
    await as.close()
    asClosed = true
    const refresh = await spa.send('POST', '/refresh', { csrf })
    expect([refresh.status, refresh.body.code]).toEqual([503, 'authorization_server_unavailable'])
    expect(refresh.setCookies).toEqual([])
    expect((await spa.send('GET', '/session')).body.isLoggedIn).toBe(true)
    const start = await th.spa().send('POST', '/login/start')
    expect(start.status).toBe(503)
  })
})
