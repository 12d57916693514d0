import { performance } from 'node:perf_hooks'
import { InvalidBearerRequest, MissingToken } from '@gatehouse/jwt/errors'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBearerToken } from './bearer-token.js'

/** Far above any honest call on these header sizes; a catastrophic pattern would blow through it. */
const GENEROUS_MS = 500
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

const TOKEN = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,200}={0,2}$/)
const AUTHORIZATION = fc.oneof(
  TOKEN.map((token) => `Bearer ${token}`),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', 'Bearer,', 'Bearer:', ''),
      fc.constantFrom(' ', '  ', '\t', '', ' \t', '\r\n '),
      fc.oneof(TOKEN, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })),
      fc.constantFrom('', ' ', '=', ' x', ', Bearer other', '\u0000'),
    )
    .map((parts) => parts.join('')),
  fc
    .tuple(
      fc.constantFrom('Bearer ', 'Bearer', 'Bearer a', 'Bearer a='),
      fc.constantFrom(' ', 'a', '=', '= ', 'a=', '\t'),
      fc.integer({ min: 0, max: 8000 }),
      fc.constantFrom('', '!', ' x', '=a'),
    )
    .map(([head, piece, count, tail]) => `${head}${piece.repeat(count)}${tail}`),
  fc.string({ maxLength: 200 }),
)

describe('readBearerToken (properties)', () => {
  it('returns an RFC 6750 b64token found in the header, or throws a bearer error', () => {
    fc.assert(
      fc.property(AUTHORIZATION, (header) => {
        const started = performance.now()
        try {
          const token = readBearerToken({ authorization: header })
          expect(token).toMatch(B64TOKEN)
          expect(header).toContain(token)
          expect(header.toLowerCase().startsWith('bearer ')).toBe(true)
        } catch (error) {
          if (!(error instanceof MissingToken)) expect(error).toBeInstanceOf(InvalidBearerRequest)
        } finally {
          expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('reads back exactly the token a client sent', () => {
    fc.assert(
      fc.property(TOKEN, fc.constantFrom('Bearer', 'bearer', 'BEARER'), (token, scheme) => {
        expect(readBearerToken({ authorization: `${scheme} ${token}` })).toBe(token)
      }),
      { numRuns: 1000 },
    )
  })
})
