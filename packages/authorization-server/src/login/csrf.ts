import { createHmac, hkdfSync } from 'node:crypto'
import { constantTimeEqual } from '../tokens/constant-time-equal.js'

/**
 * CSRF tokens for the login, MFA, consent and logout forms: an HMAC of the interaction id (a
 * synchronizer token). The interaction id is itself a random value bound to the browser by a
 * SameSite cookie, so a cross-site form can supply neither.
 */
export interface Csrf {
  token(binding: string): string
  verify(binding: string, token: string | undefined): boolean
}

export function createCsrf(keyEncryptionKey: Uint8Array): Csrf {
  // A separate key derived from the configured one: the encryption key is never used as a MAC key.
  const key = Buffer.from(
    hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), 'gatehouse csrf v1', 32),
  )
  const token = (binding: string) => createHmac('sha256', key).update(binding).digest('base64url')
  return {
    token,
    verify(binding, presented) {
      return presented !== undefined && constantTimeEqual(token(binding), presented)
    },
  }
}
