import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type BearerError,
  InsufficientScope,
  InvalidBearerRequest,
  MissingToken,
} from '../errors.js'
import { bearerChallenge, extractBearerToken, renderBearerError } from './bearer.js'

/** Far above any honest call on these sizes; a catastrophic pattern would blow through it. */
const GENEROUS_MS = 500
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/** RFC 9110 field-value characters a header may carry: no CR, LF or NUL, so no injection. */
const SAFE_FIELD_VALUE = /^[\x20-\x7e]*$/

const TOKEN = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,120}={0,2}$/)
const TEXT = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }))
const AUTHORIZATION_VALUE = fc.oneof(
  TOKEN.map((token) => `Bearer ${token}`),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BeArEr', 'Basic', 'DPoP', 'Bearer,', '', '\t'),
      fc.constantFrom(' ', '  ', '\t', '', ' \t '),
      fc.oneof(TOKEN, TEXT),
      fc.constantFrom('', ' ', '\t', '=', ', x'),
    )
    .map((parts) => parts.join('')),
  fc
    .tuple(
      fc.constantFrom('Bearer ', 'Bearer', '', 'Bearer a'),
      fc.constantFrom(' ', 'a', '=', '\t', '!'),
      fc.integer({ min: 0, max: 8000 }),
      fc.constantFrom('', '!', ' ', '=a'),
    )
    .map(([head, piece, count, tail]) => `${head}${piece.repeat(count)}${tail}`),
)
const HEADER_NAME = fc.oneof(
  fc.constantFrom(
    'Authorization',
    'authorization',
    'AUTHORIZATION',
    'Authorisation',
    'X-Authorization',
  ),
  fc.string({ maxLength: 16 }),
)
const RAW_HEADERS = fc
  .array(fc.tuple(HEADER_NAME, AUTHORIZATION_VALUE), { maxLength: 4 })
  .map((pairs) => pairs.flat())
const URL_TARGET = fc.oneof(
  fc.constant('/orders'),
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom('id', 'page', 'token', 'access', '%'), TEXT), TEXT), {
      maxLength: 4,
    })
    .map((pairs) => `/orders?${new URLSearchParams(pairs)}`),
  TEXT.map((text) => `/orders?${text}`),
)
const BODY = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 2 }),
  fc.dictionary(TEXT, TEXT),
)
/** Every spelling of `access_token` a server's query or body parser would decode to that name. */
const ACCESS_TOKEN_NAME = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    fc.constantFrom('', '[]', '[0]'),
  )
  .map(([upper, encode, suffix]) => {
    const name = [...'access_token']
      .map((char, i) => (upper[i] ? char.toUpperCase() : char))
      .map((char, i) => (encode[i] ? `%${char.charCodeAt(0).toString(16).toUpperCase()}` : char))
      .join('')
    return `${name}${suffix === '' ? '' : encodeURIComponent(suffix)}`
  })

function extract(rawHeaders: string[], url: string, body: unknown): string | BearerError {
  const started = performance.now()
  try {
    return extractBearerToken(body === undefined ? { rawHeaders, url } : { rawHeaders, url, body })
  } catch (error) {
    if (!(error instanceof MissingToken)) expect(error).toBeInstanceOf(InvalidBearerRequest)
    return error as BearerError
  } finally {
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  }
}

describe('extractBearerToken (properties)', () => {
  it('returns a b64token from the one Authorization header, or throws MissingToken or invalid_request', () => {
    fc.assert(
      fc.property(RAW_HEADERS, URL_TARGET, BODY, (rawHeaders, url, body) => {
        const result = extract(rawHeaders, url, body)
        if (typeof result !== 'string') return
        expect(result).toMatch(B64TOKEN)
        const values = rawHeaders.filter(
          (_, i) => i % 2 === 1 && rawHeaders[i - 1]?.toLowerCase() === 'authorization',
        )
        expect(values).toHaveLength(1)
        expect(values[0]).toContain(result)
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses access_token in the query in any case or percent-encoding, even beside a valid header', () => {
    fc.assert(
      fc.property(TOKEN, ACCESS_TOKEN_NAME, TEXT, (token, name, value) => {
        const result = extract(
          ['Authorization', `Bearer ${token}`],
          `/orders?a=1&${name}=${encodeURIComponent(value)}`,
          undefined,
        )
        expect(result).toBeInstanceOf(InvalidBearerRequest)
        expect((result as InvalidBearerRequest).reason).toBe('bearer.token_in_query')
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses two Authorization headers in any case, whatever they hold', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION'),
        fc.constantFrom('Authorization', 'authorization', 'aUTHORIZATION'),
        AUTHORIZATION_VALUE,
        AUTHORIZATION_VALUE,
        (first, second, one, two) => {
          const result = extract([first, one, 'Accept', '*/*', second, two], '/orders', undefined)
          expect(result).toBeInstanceOf(InvalidBearerRequest)
          expect((result as InvalidBearerRequest).reason).toBe('bearer.multiple_headers')
        },
      ),
      { numRuns: 500 },
    )
  })

  it('renders every refusal as a challenge a client can parse, never echoing the header or token', () => {
    fc.assert(
      fc.property(RAW_HEADERS, URL_TARGET, BODY, TEXT, (rawHeaders, url, body, scope) => {
        const result = extract(rawHeaders, url, body)
        const errors: BearerError[] = [new InsufficientScope([scope, 'orders:read'])]
        if (typeof result !== 'string') errors.push(result)
        for (const error of errors) {
          const rendered = renderBearerError(error, { realm: 'orders' })
          expect([400, 401, 403]).toContain(rendered.status)
          const challenge = rendered.headers['www-authenticate'] ?? ''
          expect(challenge).toMatch(SAFE_FIELD_VALUE)
          expect(challenge).toBe(bearerChallenge(error, { realm: 'orders' }))
          // auth-param = token "=" quoted-string, comma-separated (RFC 9110 §11.2).
          expect(challenge).toMatch(/^Bearer realm="orders"(, [a-z_]+="(?:[^"\\]|\\.)*")*$/)
          for (const [i, value] of rawHeaders.entries()) {
            if (i % 2 === 1 && value.length > 24) expect(rendered.body).not.toContain(value)
          }
        }
      }),
      { numRuns: 400 },
    )
  })
})
