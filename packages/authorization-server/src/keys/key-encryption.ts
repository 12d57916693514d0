import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Encryption at rest for private signing keys and TOTP secrets: AES-256-GCM with a random 96-bit
 * IV and the record id as additional data, so a ciphertext moved to another row fails to decrypt.
 * Envelope: `v1.<iv>.<ciphertext>.<tag>` (base64url).
 */
export interface KeyEncryption {
  encrypt(plaintext: string, associatedData: string): string
  decrypt(envelope: string, associatedData: string): string
}

export function createKeyEncryption(key: Uint8Array): KeyEncryption {
  if (key.byteLength !== 32) {
    throw new TypeError('the key-encryption key must be 32 bytes (AES-256)')
  }
  const secret = Buffer.from(key)
  return {
    encrypt(plaintext, associatedData) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', secret, iv)
      cipher.setAAD(Buffer.from(associatedData))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return ['v1', iv, ciphertext, tag]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.')
    },
    decrypt(envelope, associatedData) {
      const [version, iv, ciphertext, tag] = envelope.split('.')
      if (version !== 'v1' || iv === undefined || ciphertext === undefined || tag === undefined) {
        throw new Error('unrecognised encrypted-key envelope')
      }
      const decipher = createDecipheriv('aes-256-gcm', secret, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(associatedData))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8')
    },
  }
}
