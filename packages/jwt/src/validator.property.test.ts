import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { BearerError, createJwtValidator, type JwtValidator } from './index.js'
import {
  createTestKey,
  signAccessToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from './test-support/test-issuer.js'

/**
 * Property: whatever string arrives as a token — random text, random bytes, or a valid token with
 * any mutation — `validate()` either accepts a token whose signed content is unchanged, or rejects
 * with a typed `BearerError`. Never another error, never a crash.
 */
let validator: JwtValidator
let valid: string

beforeAll(async () => {
  const key = await createTestKey('ES256', 'prop-1')
  validator = createJwtValidator({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwks: { keys: [key.publicJwk] },
  })
  valid = await signAccessToken(key)
})

async function outcome(token: string): Promise<'accepted' | 'typed-rejection' | Error> {
  try {
    await validator.validate(token)
    return 'accepted'
  } catch (error) {
    return error instanceof BearerError ? 'typed-rejection' : (error as Error)
  }
}

/** Base64url has trailing bits that decoders ignore: a mutation there leaves the signed bytes intact. */
function sameDecodedContent(a: string, b: string): boolean {
  const partsA = a.split('.')
  const partsB = b.split('.')
  return (
    partsA.length === 3 &&
    partsB.length === 3 &&
    partsA.every(
      (part, i) =>
        /^[A-Za-z0-9_-]*$/.test(partsB[i] ?? '') &&
        Buffer.from(part, 'base64url').equals(Buffer.from(partsB[i] ?? '', 'base64url')),
    )
  )
}

describe('validate() under random input (fast-check)', () => {
  it('rejects random strings with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 400 }), async (token) => {
        expect(await outcome(token)).toBe('typed-rejection')
      }),
      { numRuns: 400 },
    )
  })

  it('rejects random dot-separated base64url segments and random JSON headers', async () => {
    const segment = fc
      .uint8Array({ maxLength: 200 })
      .map((bytes) => Buffer.from(bytes).toString('base64url'))
    const header = fc
      .record({
        alg: fc.constantFrom('ES256', 'none', 'HS256', 'RS256', 'EdDSA', 42),
        kid: fc.option(fc.string()),
        typ: fc.option(fc.string()),
        crit: fc.option(fc.array(fc.string())),
      })
      .map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'))
    await fc.assert(
      fc.asyncProperty(fc.oneof(segment, header), segment, segment, async (h, p, s) => {
        expect(await outcome(`${h}.${p}.${s}`)).toBe('typed-rejection')
      }),
      { numRuns: 400 },
    )
  })

  it('rejects every mutation of a valid token that changes its signed content', async () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('replace' as const),
        at: fc.nat(),
        char: fc.string({ minLength: 1, maxLength: 1 }),
      }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        char: fc.string({ minLength: 1, maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), char: fc.constant('') }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), char: fc.constant('') }),
    )
    await fc.assert(
      fc.asyncProperty(mutation, async ({ kind, at, char }) => {
        const i = at % valid.length
        const mutated =
          kind === 'replace'
            ? valid.slice(0, i) + char + valid.slice(i + 1)
            : kind === 'insert'
              ? valid.slice(0, i) + char + valid.slice(i)
              : kind === 'delete'
                ? valid.slice(0, i) + valid.slice(i + 1)
                : valid.slice(0, i)
        const result = await outcome(mutated)
        if (result === 'accepted') expect(sameDecodedContent(valid, mutated)).toBe(true)
        else expect(result).toBe('typed-rejection')
      }),
      { numRuns: 500 },
    )
  })
})
