import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseBasicCredentials } from './client-secret.js'

/** Far above any honest parse of these sizes; a runaway pattern would blow through it. */
const GENEROUS_MS = 500
const TEXT = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 30 }))
const HEADER = fc.oneof(
  TEXT,
  TEXT.map((text) => `Basic ${Buffer.from(text).toString('base64')}`),
  fc
    .tuple(TEXT, TEXT)
    .map(([id, secret]) => `basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`),
  fc
    .tuple(
      fc.constantFrom('Basic ', 'Basic', 'Basic A', ' Basic '),
      fc.constantFrom('A', '=', ' ', '+/', '%'),
      fc.nat(8000),
    )
    .map(([head, piece, count]) => `${head}${piece.repeat(count)}!`),
)

function parse(header: string) {
  const started = performance.now()
  try {
    return parseBasicCredentials(header)
  } finally {
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  }
}

describe('Basic client credentials (properties)', () => {
  it('parses any header into a non-empty client id and secret, or null, without throwing', () => {
    fc.assert(
      fc.property(HEADER, (header) => {
        const credentials = parse(header)
        if (credentials === null) return
        expect(credentials.clientId).not.toBe('')
        expect(credentials.clientSecret).not.toBe('')
      }),
      { numRuns: 3000 },
    )
  })

  it('reads back any client id and secret form-encoded as RFC 6749 §2.3.1 asks, by either encoder', () => {
    const VALUE = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(VALUE, VALUE, fc.boolean(), (clientId, clientSecret, formEncoder) => {
        const encode = (value: string) =>
          formEncoder
            ? new URLSearchParams([['', value]]).toString().slice(1)
            : encodeURIComponent(value)
        const header = `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`
        expect(parse(header)).toEqual({ clientId, clientSecret })
      }),
      { numRuns: 2000 },
    )
  })
})
