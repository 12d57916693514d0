import { describe, expect, it } from 'vitest'
import { generateOpaque } from '../tokens/opaque.js'
import { tokenHash } from '../tokens/token-hash.js'
import { verifyClientSecret } from './client-secret.js'

describe('verifyClientSecret', () => {
  const secret = generateOpaque('client_secret')
  const stored = tokenHash(secret)

  it('accepts the secret whose SHA-256 is stored', () => {
    expect(verifyClientSecret(secret, stored)).toBe(true)
  })

  it('refuses another secret, a prefix, an extension and the empty string', () => {
    expect(verifyClientSecret(generateOpaque('client_secret'), stored)).toBe(false)
    expect(verifyClientSecret(secret.slice(0, -1), stored)).toBe(false)
    expect(verifyClientSecret(`${secret}x`, stored)).toBe(false)
    expect(verifyClientSecret('', stored)).toBe(false)
  })

  it('refuses everything for a client without a stored secret, even the dummy preimage', () => {
    expect(verifyClientSecret(secret, null)).toBe(false)
    expect(verifyClientSecret('gatehouse-unknown-client', null)).toBe(false)
  })

  it('refuses against a stored value that is not a SHA-256 digest', () => {
    expect(verifyClientSecret(secret, stored.slice(0, 20))).toBe(false)
    expect(verifyClientSecret(secret, `${stored}AAAA`)).toBe(false)
    expect(verifyClientSecret(secret, '')).toBe(false)
    expect(verifyClientSecret('gatehouse-unknown-client', stored.slice(0, 20))).toBe(false)
  })

  it('compares the secret itself, not its base64url hash (the hash is not a password)', () => {
    expect(verifyClientSecret(stored, stored)).toBe(false)
  })
})
