import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * AES-256-GCM sealing of phantom-cache entries kept in Redis: an entry holds a signed JWT, a
 * credential for the APIs behind the gateway, so whoever can read Redis must not be able to use
 * it. The Redis key (the opaque token's hash) is bound as additional data, so an entry copied
 * under another key does not open. node:crypto is the primitive; the envelope is
 * `base64url(iv ‖ tag ‖ ciphertext)`.
 */
export interface EntrySealer {
  seal(plaintext: string, boundTo: string): string
  /** The plaintext, or undefined when the envelope is malformed, tampered or moved. */
  open(envelope: string, boundTo: string): string | undefined
}

const IV_BYTES = 12
const TAG_BYTES = 16

export function createEntrySealer(key: Uint8Array): EntrySealer {
  if (key.byteLength !== 32) {
    throw new TypeError('the phantom-cache entry key must be 32 bytes (AES-256-GCM)')
  }
  const secret = Buffer.from(key)
  return {
    seal(plaintext, boundTo) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', secret, iv)
      cipher.setAAD(Buffer.from(boundTo, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
    },
    open(envelope, boundTo) {
      const raw = Buffer.from(envelope, 'base64url')
      if (raw.length <= IV_BYTES + TAG_BYTES) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', secret, raw.subarray(0, IV_BYTES))
        decipher.setAAD(Buffer.from(boundTo, 'utf8'))
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        return undefined
      }
    },
  }
}
