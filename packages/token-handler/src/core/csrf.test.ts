import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CsrfFailed, OriginNotAllowed } from '../errors.js'
import { createCookieSealer } from './cookie-crypto.js'
import { createCookieJar } from './cookies.js'
import { checkCsrf, checkOrigin, constantTimeEqual, createCsrfToken } from './csrf.js'

const allowed = new Set(['https://app.example.com'])
const jar = createCookieJar(
  { namePrefix: 'gh', basePath: '', apiPath: '/' },
  createCookieSealer({ keys: [{ id: 'k1', key: randomBytes(32) }], currentKeyId: 'k1' }),
  Date.now,
)

function csrfCookie(token: string): string {
  return jar.set('csrf', token, 600).split(';')[0] ?? ''
}

function reasonOf(check: () => void): string {
  try {
    check()
  } catch (error) {
    if (error instanceof OriginNotAllowed || error instanceof CsrfFailed) return error.reason
    throw error
  }
  return 'accepted'
}

describe('Origin check', () => {
  it('accepts exactly the allowed origins', () => {
    expect(reasonOf(() => checkOrigin('https://app.example.com', allowed))).toBe('accepted')
  })

  it('refuses a missing Origin, Origin: null, and near misses', () => {
    expect(reasonOf(() => checkOrigin(undefined, allowed))).toBe('origin.missing')
    expect(reasonOf(() => checkOrigin('null', allowed))).toBe('origin.null')
    for (const origin of [
      'https://evil.example',
      'https://app.example.com.evil.example',
      'http://app.example.com',
      'https://APP.example.com',
      'https://app.example.com:443',
      'https://app.example.com/',
    ]) {
      expect(reasonOf(() => checkOrigin(origin, allowed))).toBe('origin.not_allowed')
    }
  })

  it('answers 403 origin_not_allowed', () => {
    expect(() => checkOrigin('https://evil.example', allowed)).toThrow(
      expect.objectContaining({ code: 'origin_not_allowed', status: 403 }),
    )
  })
})

describe('CSRF token', () => {
  const token = createCsrfToken()

  it('is 256 random bits', () => {
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    expect(createCsrfToken()).not.toBe(token)
  })

  it('accepts the header equal to the sealed cookie', () => {
    expect(reasonOf(() => checkCsrf(csrfCookie(token), token, jar))).toBe('accepted')
  })

  it('refuses a missing or mismatched header with 401 csrf_failed', () => {
    expect(reasonOf(() => checkCsrf(csrfCookie(token), undefined, jar))).toBe('csrf.header_missing')
    expect(reasonOf(() => checkCsrf(csrfCookie(token), '', jar))).toBe('csrf.header_missing')
    expect(reasonOf(() => checkCsrf(csrfCookie(token), createCsrfToken(), jar))).toBe(
      'csrf.mismatch',
    )
    expect(() => checkCsrf(csrfCookie(token), 'x', jar)).toThrow(
      expect.objectContaining({ code: 'csrf_failed', status: 401 }),
    )
  })

  it('refuses when the CSRF cookie is missing or forged (the header alone is not enough)', () => {
    expect(reasonOf(() => checkCsrf(undefined, token, jar))).toBe('csrf.cookie_missing')
    expect(reasonOf(() => checkCsrf(`__Host-gh-csrf=${token}`, token, jar))).toMatch(
      /^csrf\.cookie\./,
    )
  })

  it('compares in constant time whatever the lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true)
    expect(constantTimeEqual('abc', 'abd')).toBe(false)
    expect(constantTimeEqual('abc', 'abcd')).toBe(false)
  })
})
