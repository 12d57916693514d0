import { describe, expect, it } from 'vitest'
import { base32Decode, base32Encode, hotp, totpStep, verifyTotp } from './totp.js'

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890", 8 digits.
const SEED = Buffer.from('12345678901234567890')

describe('TOTP (RFC 6238)', () => {
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('matches the RFC test vector at T=%i', (seconds, expected) => {
    expect(hotp(SEED, totpStep(seconds * 1000), 8)).toBe(expected)
  })

  it('round-trips base32', () => {
    expect(base32Decode(base32Encode(SEED)).equals(SEED)).toBe(true)
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI')
  })

  it('accepts a code from the adjacent step, refuses a replayed step, a far step and junk', () => {
    const secret = base32Encode(SEED)
    const now = 1_700_000_000_000
    const step = totpStep(now)
    const code = hotp(SEED, step)
    expect(verifyTotp(secret, code, now, null)).toBe(step)
    expect(verifyTotp(secret, code, now + 30_000, null)).toBe(step)
    expect(verifyTotp(secret, code, now, step)).toBeNull()
    expect(verifyTotp(secret, code, now + 90_000, null)).toBeNull()
    expect(verifyTotp(secret, '12345', now, null)).toBeNull()
    expect(verifyTotp(secret, 'abcdef', now, null)).toBeNull()
  })
})
