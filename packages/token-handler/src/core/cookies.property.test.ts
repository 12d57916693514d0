import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidCookie, TokenHandlerError } from '../errors.js'
import { createCookieSealer } from './cookie-crypto.js'
import { createCookieTokenReader } from './cookie-token.js'
import { COOKIE_KINDS, type CookieKind, cookieValues, createCookieJar } from './cookies.js'

/** Far above any honest call on these header sizes; a runaway parse would blow through it. */
const GENEROUS_MS = 500
const NOW = 1_700_000_000_000
const ORIGIN = 'https://app.example.com'
const settings = { namePrefix: 'gh', basePath: '/tokenhandler', apiPath: '/' }
const keys = [{ id: 'k1', key: randomBytes(32) }]
const jar = createCookieJar(settings, createCookieSealer({ keys, currentKeyId: 'k1' }), () => NOW)
/** A jar under another key with the same key id: what an attacker with their own deployment makes. */
const foreignJar = createCookieJar(
  settings,
  createCookieSealer({ keys: [{ id: 'k1', key: randomBytes(32) }], currentKeyId: 'k1' }),
  () => NOW,
)
const read = createCookieTokenReader({
  cookies: settings,
  keys,
  currentKeyId: 'k1',
  allowedOrigins: [ORIGIN],
  now: () => NOW,
})

const ACCESS_TOKEN = 'gat_the-real-access-token'
const CSRF_TOKEN = 'the-real-csrf-token'
const pair = (setCookie: string) => setCookie.split(';')[0] ?? ''
const nameOf = (kind: CookieKind) => jar.specs[kind].name
const sealedValueOf = (setCookie: string) => pair(setCookie).slice(pair(setCookie).indexOf('=') + 1)
/** Everything this jar sealed, per kind: an opened cookie must be one of these. */
const SEALED_VALUES: Record<CookieKind, readonly string[]> = {
  access: [ACCESS_TOKEN, 'gat_expired'],
  refresh: ['grt_refresh'],
  id: ['id-token'],
  csrf: [CSRF_TOKEN],
  login: ['{"state":"s"}'],
}

const genuine = [
  pair(jar.set('access', ACCESS_TOKEN, 300)),
  pair(jar.set('access', 'gat_expired', 0)),
  pair(jar.set('refresh', 'grt_refresh', 3600)),
  pair(jar.set('id', 'id-token', 3600)),
  pair(jar.set('csrf', CSRF_TOKEN, 3600)),
  pair(jar.set('login', '{"state":"s"}', 300)),
]
const hostile = [
  // Swapped: the refresh cookie's value under the access cookie's name, and so on.
  ...COOKIE_KINDS.flatMap((kind) =>
    COOKIE_KINDS.filter((other) => other !== kind).map(
      (other) => `${nameOf(kind)}=${sealedValueOf(jar.set(other, 'swapped', 300))}`,
    ),
  ),
  // Sealed under another key that has the same key id.
  pair(foreignJar.set('access', 'gat_forged', 300)),
  pair(foreignJar.set('csrf', 'forged-csrf', 300)),
]

const PIECE = fc.oneof(
  { arbitrary: fc.constantFrom(...genuine), weight: 3 },
  { arbitrary: fc.constantFrom(...hostile), weight: 2 },
  fc
    .constantFrom(...COOKIE_KINDS)
    .chain((kind) =>
      fc
        .oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 200 }))
        .map((value) => `${nameOf(kind)}=${value}`),
    ),
  fc.constantFrom(';', '=', '"', '""', ' ', '__Host-gh-at', '__Host-gh-at="', 'a=b', '\t'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)
const COOKIE_HEADER = fc.oneof(
  fc.constant(undefined),
  fc.array(PIECE, { maxLength: 8 }).map((pieces) => pieces.join('; ')),
  fc.array(PIECE, { maxLength: 8 }).map((pieces) => pieces.join('')),
  fc
    .tuple(fc.constantFrom(';', '=', ' ;', '"', `${nameOf('access')}=`), fc.nat(4000))
    .map(([piece, count]) => piece.repeat(count)),
)

function timed<T>(call: () => T): T {
  const started = performance.now()
  try {
    return call()
  } finally {
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  }
}

describe('reading the Cookie header (properties)', () => {
  it('lists only non-empty values that the header holds under exactly that name', () => {
    fc.assert(
      fc.property(COOKIE_HEADER, fc.constantFrom(...COOKIE_KINDS), (header, kind) => {
        for (const value of timed(() => cookieValues(header, nameOf(kind)))) {
          expect(value).not.toBe('')
          expect(header).toContain(`${value}`)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('opens a cookie only to a value this jar sealed for that cookie, or refuses it with invalid_cookie', () => {
    fc.assert(
      fc.property(COOKIE_HEADER, fc.constantFrom(...COOKIE_KINDS), (header, kind) => {
        try {
          const opened = timed(() => jar.open(header, kind))
          if (opened.status === 'valid') expect(SEALED_VALUES[kind]).toContain(opened.value)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidCookie)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('the gateway cookie reader (properties)', () => {
  const METHOD = fc.constantFrom(
    'GET',
    'get',
    'HEAD',
    'OPTIONS',
    'POST',
    'PUT',
    'PATCH',
    'DELETE',
    'X',
  )
  const ORIGIN_HEADER = fc.oneof(
    fc.constantFrom(
      undefined,
      ORIGIN,
      'null',
      'https://app.example.com.evil.test',
      'http://app.example.com',
      `${ORIGIN}/`,
      '',
    ),
    fc.string({ maxLength: 30 }),
  )
  const CSRF_HEADER = fc.oneof(
    fc.constantFrom(undefined, CSRF_TOKEN, 'forged-csrf', '', `${CSRF_TOKEN} `),
    fc.string({ maxLength: 30 }),
  )

  it('returns the sealed access token only with the right cookie, Origin and CSRF header, else a typed 401/403', () => {
    const outcomes = { safe: 0, unsafe: 0 }
    fc.assert(
      fc.property(
        COOKIE_HEADER,
        METHOD,
        ORIGIN_HEADER,
        CSRF_HEADER,
        (cookieHeader, method, origin, csrfHeader) => {
          try {
            const token = timed(() => read({ cookieHeader, method, origin, csrfHeader }))
            expect(token).toBe(ACCESS_TOKEN)
            const safe = ['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())
            outcomes[safe ? 'safe' : 'unsafe']++
            if (!safe) {
              expect(origin).toBe(ORIGIN)
              expect(csrfHeader).toBe(CSRF_TOKEN)
            } else if (origin !== undefined) {
              expect(origin).toBe(ORIGIN)
            }
          } catch (error) {
            expect(error).toBeInstanceOf(TokenHandlerError)
            expect([401, 403]).toContain((error as TokenHandlerError).status)
          }
        },
      ),
      { numRuns: 2000 },
    )
    // The fuzzing reached the accepting branch for safe methods, so the checks above ran.
    expect(outcomes.safe).toBeGreaterThan(0)
  })
})
