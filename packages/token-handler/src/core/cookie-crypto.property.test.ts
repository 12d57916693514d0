import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidCookie } from '../errors.js'
import { createCookieSealer } from './cookie-crypto.js'

const sealer = createCookieSealer({
  keys: [
    { id: 'k1', key: randomBytes(32) },
    { id: 'k2', key: randomBytes(32) },
  ],
  currentKeyId: 'k2',
})

/** Opens `value`; anything but the original plaintext or an InvalidCookie fails the property. */
function openOrRefuse(name: string, value: string): string | 'refused' {
  try {
    return sealer.open(name, value)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCookie)
    return 'refused'
  }
}

describe('cookie sealing (properties)', () => {
  it('round-trips any text for any cookie name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 1000 }), (name, text) => {
        expect(sealer.open(name, sealer.seal(name, text))).toBe(text)
      }),
    )
  })

  it('refuses, never crashes on, arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (value) => {
        expect(openOrRefuse('c', value)).toBe('refused')
      }),
    )
  })

  it('refuses every byte-level mutation of a sealed value', () => {
    const sealed = Buffer.from(sealer.seal('c', 'a refresh token'), 'base64url')
    fc.assert(
      fc.property(
        fc.nat({ max: sealed.byteLength - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (index, mask) => {
          const mutated = Buffer.from(sealed)
          mutated[index] = (mutated[index] ?? 0) ^ mask
          expect(openOrRefuse('c', mutated.toString('base64url'))).toBe('refused')
        },
      ),
    )
  })

  it('refuses a value under any other cookie name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (other) => {
        fc.pre(other !== 'c')
        expect(openOrRefuse(other, sealer.seal('c', 'token'))).toBe('refused')
      }),
    )
  })
})
