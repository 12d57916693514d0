import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createKeyEncryption } from './key-encryption.js'

describe('key encryption at rest', () => {
  const encryption = createKeyEncryption(randomBytes(32))

  it('round-trips and never stores the plaintext', () => {
    const envelope = encryption.encrypt('{"d":"secret"}', 'kid-1')
    expect(envelope).not.toContain('secret')
    expect(encryption.decrypt(envelope, 'kid-1')).toBe('{"d":"secret"}')
  })

  it('refuses a ciphertext moved to another record, a tampered one, or another key', () => {
    const envelope = encryption.encrypt('{"d":"secret"}', 'kid-1')
    expect(() => encryption.decrypt(envelope, 'kid-2')).toThrow()
    const parts = envelope.split('.')
    parts[2] = Buffer.from('tampered').toString('base64url')
    expect(() => encryption.decrypt(parts.join('.'), 'kid-1')).toThrow()
    expect(() => createKeyEncryption(randomBytes(32)).decrypt(envelope, 'kid-1')).toThrow()
  })

  it('refuses a key of the wrong length at start-up', () => {
    expect(() => createKeyEncryption(randomBytes(16))).toThrow(TypeError)
  })
})
