import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePathPattern } from './match.js'

/** The segment matcher written the obvious way (split into segments): the oracle. */
function splitMatcher(pattern: string): (path: string) => boolean {
  const parts = pattern === '/' ? [] : pattern.slice(1).split('/')
  const prefix = parts.at(-1) === '**'
  const fixed = prefix ? parts.slice(0, -1) : parts
  return (path) => {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
    const segments = trimmed === '/' ? [] : trimmed.slice(1).split('/')
    if (prefix ? segments.length < fixed.length : segments.length !== fixed.length) return false
    return fixed.every((want, i) => want === '*' || want === segments[i])
  }
}

const segment = fc.constantFrom('a', 'b', 'ab', 'orders', '1', '')
const path = fc.array(segment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`)
const pattern = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', 'ab', 'orders', '1', '*'), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([parts, prefix]) => {
    const all = prefix ? [...parts, '**'] : parts
    return all.length === 0 ? '/' : `/${all.join('/')}`
  })

describe('path patterns (property)', () => {
  it('match exactly what splitting the path into segments matches', () => {
    fc.assert(
      fc.property(pattern, path, (p, candidate) => {
        expect(compilePathPattern(p)(candidate)).toBe(splitMatcher(p)(candidate))
      }),
      { numRuns: 5_000 },
    )
  })
})
