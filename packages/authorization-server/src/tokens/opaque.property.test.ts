import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  generateOpaque,
  isWellFormedOpaque,
  OPAQUE_PREFIXES,
  type OpaqueKind,
  opaqueKindOf,
} from './opaque.js'

/** Far above any honest check of these sizes; a runaway pattern would blow through it. */
const GENEROUS_MS = 500
const KINDS = Object.keys(OPAQUE_PREFIXES) as OpaqueKind[]
const KIND = fc.constantFrom(...KINDS)
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Strings in the exact shape of a credential, with a random (almost never valid) checksum. */
const SHAPED = fc
  .tuple(
    fc.constantFrom(...Object.values(OPAQUE_PREFIXES)),
    fc.string({ unit: fc.constantFrom(...BASE62), minLength: 49, maxLength: 49 }),
  )
  .map(([prefix, rest]) => `${prefix}_${rest}`)
const ANY = fc.oneof(
  SHAPED,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .tuple(fc.constantFrom('gat_', 'a', '_', '0'), fc.integer({ min: 0, max: 20_000 }))
    .map(([piece, count]) => piece.repeat(count)),
)

function kindOf(value: string): OpaqueKind | null {
  const started = performance.now()
  const kind = opaqueKindOf(value)
  expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  return kind
}

describe('opaque credential checksums (properties)', () => {
  it('classifies any string without throwing, and almost never accepts a made-up one', () => {
    fc.assert(
      fc.property(ANY, (value) => {
        expect(kindOf(value)).toBeNull()
      }),
      { numRuns: 2000 },
    )
  })

  it('accepts every generated credential as its own kind only', () => {
    fc.assert(
      fc.property(KIND, (kind) => {
        const value = generateOpaque(kind)
        expect(kindOf(value)).toBe(kind)
        for (const other of KINDS) expect(isWellFormedOpaque(value, other)).toBe(other === kind)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses every one-character change of a credential without any store lookup', () => {
    fc.assert(
      fc.property(
        KIND,
        fc.nat({ max: 52 }),
        fc.constantFrom(...`${BASE62}_-.`),
        (kind, index, replacement) => {
          const value = generateOpaque(kind)
          fc.pre(value[index] !== replacement)
          const changed = `${value.slice(0, index)}${replacement}${value.slice(index + 1)}`
          expect(isWellFormedOpaque(changed, kind)).toBe(false)
          // The checksum covers the random part; a changed prefix is another kind at most.
          if (index > 3) expect(kindOf(changed)).toBeNull()
        },
      ),
      { numRuns: 2000 },
    )
  })
})
