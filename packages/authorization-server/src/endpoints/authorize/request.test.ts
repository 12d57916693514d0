import { describe, expect, it } from 'vitest'
import type { ServerContext } from '../../context.js'
import { InvalidRequest } from '../../errors.js'
import type { ClientRecord } from '../../store/store.js'
import {
  type Parameters,
  RedirectableAuthorizationError,
  validateAuthorizationRequest,
} from './request.js'

const REDIRECT = 'https://app.example/callback'
const client: ClientRecord = {
  clientId: 'web',
  name: 'Web',
  secretHash: null,
  tokenEndpointAuthMethod: 'none',
  jwks: null,
  redirectUris: [REDIRECT],
  postLogoutRedirectUris: [],
  grantTypes: ['authorization_code'],
  scopes: ['openid', 'orders:read'],
  audiences: ['https://api.example/orders'],
  tokenFormat: 'jwt',
  firstParty: true,
  requirePushedAuthorizationRequests: false,
  accessTokenTtlSeconds: null,
  createdAt: 0,
}
// validateAuthorizationRequest reads only the known scopes from the context once the client is
// given and the request is a pushed one.
const ctx = { knownScopes: new Set(['openid', 'orders:read']) } as unknown as ServerContext

function request(overrides: Record<string, string> = {}): Map<string, string> {
  return new Map(
    Object.entries({
      response_type: 'code',
      client_id: 'web',
      redirect_uri: REDIRECT,
      scope: 'openid orders:read',
      state: 'st-1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ...overrides,
    }),
  )
}

const validate = (parameters: Parameters) =>
  validateAuthorizationRequest(ctx, parameters, { pushed: true, client })

describe('validateAuthorizationRequest', () => {
  it('accepts a well-formed request', async () => {
    const { request: accepted } = await validate(request())
    expect(accepted).toMatchObject({ redirectUri: REDIRECT, state: 'st-1' })
  })

  it('sends a refusal found after the redirect URI is known back to the client', async () => {
    const refused = await validate(request({ nonce: 'n'.repeat(513) })).catch((error) => error)
    expect(refused).toBeInstanceOf(RedirectableAuthorizationError)
    expect(refused).toMatchObject({ redirectUri: REDIRECT, state: 'st-1' })
    expect((refused as RedirectableAuthorizationError).error).toBeInstanceOf(InvalidRequest)
  })

  it('never sends an internal failure to the redirect URI, even one that carries a code', async () => {
    // Node's system errors carry a `code` too: it must not reach the client as an OAuth error.
    const failure = Object.assign(new Error('I/O error'), { code: 'EIO' })
    const parameters = new (class extends Map<string, string> {
      override get(name: string): string | undefined {
        if (name === 'nonce') throw failure
        return super.get(name)
      }
    })(request())
    await expect(validate(parameters)).rejects.toBe(failure)
  })
})
