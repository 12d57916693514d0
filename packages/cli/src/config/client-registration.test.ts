import { describe, expect, it } from 'vitest'
import { z } from 'zod'
// The authorization server does not export its client input schema yet (see client-registration.ts);
// the test reads it from source so any drift between the two fails here.
import { ClientInputSchema } from '../../../authorization-server/src/admin/clients.js'
import { ClientInputShape, ClientRegistration } from './client-registration.js'

const base = { clientId: 'svc-1', name: 'Service', clientSecret: { env: 'SVC_SECRET' } }

describe('client registrations in the configuration', () => {
  it('have the fields of the authorization server client input, plus clientSecret', () => {
    const ours = z.toJSONSchema(z.strictObject(ClientInputShape), { io: 'input' })
    const theirs = z.toJSONSchema(ClientInputSchema, { io: 'input' })
    expect(ours).toEqual(theirs)
  })

  it('accept what the authorization server accepts', () => {
    expect(ClientRegistration.parse(base)).toMatchObject({
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenFormat: 'opaque',
    })
    const { clientSecret: _secret, ...input } = base
    expect(ClientInputSchema.safeParse(input).success).toBe(true)
  })

  it.each([
    ['a secret method without its secret', { ...base, clientSecret: undefined }, 'clientSecret'],
    [
      'a secret on a public client',
      {
        ...base,
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code'],
        redirectUris: ['https://a.test/cb'],
      },
      'clientSecret',
    ],
    [
      'private_key_jwt without keys',
      { ...base, clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt' },
      'jwks',
    ],
    [
      'a private key in jwks',
      {
        ...base,
        clientSecret: undefined,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private' }] },
      },
      'jwks',
    ],
    [
      'a redirect URI with a fragment',
      { ...base, grantTypes: ['authorization_code'], redirectUris: ['https://a.test/cb#x'] },
      'redirectUris',
    ],
    [
      'an http redirect URI off loopback',
      { ...base, grantTypes: ['authorization_code'], redirectUris: ['http://a.test/cb'] },
      'redirectUris',
    ],
    ['an unknown key', { ...base, secret: 'x' }, ''],
    ['a missing clientId', { name: 'x', clientSecret: { env: 'X' } }, 'clientId'],
  ])('refuse %s', (_name, input, key) => {
    const result = ClientRegistration.safeParse(input)
    expect(result.success).toBe(false)
    expect(result.error?.issues.some((issue) => String(issue.path[0] ?? '') === key)).toBe(true)
  })
})
