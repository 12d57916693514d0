import { describe, expect, it } from 'vitest'
import { createJwtValidator } from './index.js'
import {
  createTestKey,
  signAccessToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from './test-support/test-issuer.js'

describe('smoke', () => {
  it('accepts a good token', async () => {
    const key = await createTestKey('ES256')
    const validator = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwks: { keys: [key.publicJwk] },
    })
    const verified = await validator.validate(await signAccessToken(key))
    expect(verified.subject).toBe('user-1')
    expect([...verified.scopes]).toEqual(['orders:read', 'profile'])
  })
})
