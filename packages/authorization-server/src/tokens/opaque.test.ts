import { describe, expect, it } from 'vitest'
import { generateOpaque, isWellFormedOpaque, opaqueKindOf } from './opaque.js'

describe('opaque credentials', () => {
  it('carry a product prefix, 256 bits of randomness and a checksum', () => {
    const token = generateOpaque('access_token')
    expect(token).toMatch(/^gat_[0-9A-Za-z]{49}$/)
    expect(isWellFormedOpaque(token, 'access_token')).toBe(true)
    expect(opaqueKindOf(token)).toBe('access_token')
    expect(generateOpaque('access_token')).not.toBe(token)
  })

  it('refuses a value with one character changed (checksum) without any lookup', () => {
    const token = generateOpaque('access_token')
    const last = token.at(10) === 'a' ? 'b' : 'a'
    const tampered = `${token.slice(0, 10)}${last}${token.slice(11)}`
    expect(isWellFormedOpaque(tampered, 'access_token')).toBe(false)
  })

  it('refuses a token of another kind, a truncated one and junk', () => {
    const refresh = generateOpaque('refresh_token')
    expect(isWellFormedOpaque(refresh, 'access_token')).toBe(false)
    expect(isWellFormedOpaque(refresh.slice(0, -1), 'refresh_token')).toBe(false)
    expect(opaqueKindOf('eyJhbGciOiJub25lIn0.e30.')).toBeNull()
    expect(opaqueKindOf('')).toBeNull()
  })
})
