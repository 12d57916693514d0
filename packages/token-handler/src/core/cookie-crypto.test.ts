import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidCookie } from '../errors.js'
import { COOKIE_FORMAT_VERSION, createCookieSealer, MAX_SEALED_LENGTH } from './cookie-crypto.js'

const k1 = { id: 'k1', key: randomBytes(32) }
const k2 = { id: 'k2', key: randomBytes(32) }
const sealer = createCookieSealer({ keys: [k1], currentKeyId: 'k1' })

function refusal(open: () => unknown): InvalidCookie {
  try {
    open()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCookie)
    const invalid = error as InvalidCookie
    expect(invalid.code).toBe('invalid_cookie')
    expect(invalid.status).toBe(401)
    return invalid
  }
  throw new Error('the cookie was accepted')
}

function bytesOf(sealed: string): Buffer {
  return Buffer.from(sealed, 'base64url')
}

describe('cookie sealing', () => {
  it('opens what it sealed for the same cookie name', () => {
    const sealed = sealer.seal('__Host-gh-at', 'gat_token-value')
    expect(sealer.open('__Host-gh-at', sealed)).toBe('gat_token-value')
    expect(sealed).not.toContain('gat_token-value')
  })

  it('writes the version byte and key id, and a fresh IV every time', () => {
    const a = bytesOf(sealer.seal('c', 'same'))
    const b = bytesOf(sealer.seal('c', 'same'))
    expect(a[0]).toBe(COOKIE_FORMAT_VERSION)
    expect(a[1]).toBe(2)
    expect(a.subarray(2, 4).toString()).toBe('k1')
    expect(a.subarray(4, 16).equals(b.subarray(4, 16))).toBe(false)
    expect(a.equals(b)).toBe(false)
  })

  it('refuses a value sealed for another cookie (access cookie in the refresh slot)', () => {
    const access = sealer.seal('__Host-gh-at', 'gat_token')
    expect(refusal(() => sealer.open('__Secure-gh-rt', access)).reason).toBe(
      'cookie.authentication_failed',
    )
  })

  it('refuses a tampered value wherever the bit is flipped', () => {
    const sealed = bytesOf(sealer.seal('c', 'a token worth stealing'))
    for (let index = 4; index < sealed.byteLength; index++) {
      const tampered = Buffer.from(sealed)
      tampered[index] = (tampered[index] ?? 0) ^ 0x01
      expect(refusal(() => sealer.open('c', tampered.toString('base64url'))).reason).toBe(
        'cookie.authentication_failed',
      )
    }
  })

  it('refuses truncated values', () => {
    const sealed = sealer.seal('c', 'value')
    for (const length of [1, 3, 6, 20, sealed.length - 1]) {
      const reason = refusal(() => sealer.open('c', sealed.slice(0, length))).reason
      expect(['cookie.truncated', 'cookie.authentication_failed', 'cookie.unknown_key']).toContain(
        reason,
      )
    }
  })

  it('refuses a value re-encrypted under a wrong key with the right key id', () => {
    const forger = createCookieSealer({
      keys: [{ id: 'k1', key: randomBytes(32) }],
      currentKeyId: 'k1',
    })
    expect(refusal(() => sealer.open('c', forger.seal('c', 'forged'))).reason).toBe(
      'cookie.authentication_failed',
    )
  })

  it('refuses a key id it does not know', () => {
    const other = createCookieSealer({ keys: [k2], currentKeyId: 'k2' })
    expect(refusal(() => sealer.open('c', other.seal('c', 'x'))).reason).toBe('cookie.unknown_key')
  })

  it('refuses a changed key id, even to another configured key', () => {
    const both = createCookieSealer({ keys: [k1, { id: 'k9', key: k1.key }], currentKeyId: 'k1' })
    const sealed = bytesOf(both.seal('c', 'x'))
    sealed.write('k9', 2, 'latin1')
    expect(refusal(() => both.open('c', sealed.toString('base64url'))).reason).toBe(
      'cookie.authentication_failed',
    )
  })

  it('refuses an unknown format version', () => {
    const sealed = bytesOf(sealer.seal('c', 'x'))
    sealed[0] = 2
    expect(refusal(() => sealer.open('c', sealed.toString('base64url'))).reason).toBe(
      'cookie.unknown_version',
    )
  })

  it('refuses empty, non-base64url and oversized values', () => {
    expect(refusal(() => sealer.open('c', '')).reason).toBe('cookie.malformed')
    expect(refusal(() => sealer.open('c', 'abc+/=')).reason).toBe('cookie.malformed')
    expect(refusal(() => sealer.open('c', 'A'.repeat(MAX_SEALED_LENGTH + 1))).reason).toBe(
      'cookie.malformed',
    )
  })

  it('rotates keys: old cookies still open, new ones use the current key', () => {
    const before = sealer.seal('c', 'old session')
    const rotated = createCookieSealer({ keys: [k2, k1], currentKeyId: 'k2' })
    expect(rotated.open('c', before)).toBe('old session')
    const after = rotated.seal('c', 'new session')
    expect(bytesOf(after).subarray(2, 4).toString()).toBe('k2')
    expect(refusal(() => sealer.open('c', after)).reason).toBe('cookie.unknown_key')
  })

  it('refuses a bad key configuration at start-up with a TypeError', () => {
    expect(() =>
      createCookieSealer({ keys: [{ id: 'k1', key: randomBytes(16) }], currentKeyId: 'k1' }),
    ).toThrow(TypeError)
    expect(() => createCookieSealer({ keys: [k1, k1], currentKeyId: 'k1' })).toThrow(TypeError)
    expect(() => createCookieSealer({ keys: [k1], currentKeyId: 'k2' })).toThrow(TypeError)
    expect(() =>
      createCookieSealer({ keys: [{ id: 'bad id', key: k1.key }], currentKeyId: 'bad id' }),
    ).toThrow(TypeError)
  })
})
