import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BadRequestPath } from '../errors.js'
import { normalisePath } from './normalise-path.js'

const MAX_BYTES = 2048
/** Far above any honest call on this input size; a catastrophic pattern would blow through it. */
const GENEROUS_MS = 500

/** Path pieces attackers use against normalisers, mixed with random text. */
const PIECE = fc.oneof(
  fc.constantFrom(
    '/',
    '//',
    '.',
    '..',
    '%2e',
    '%2E',
    '%2f',
    '%2F',
    '%5c',
    '%25',
    '%252e',
    '%00',
    '%0a',
    '%7f',
    '%c0%ae',
    '%u002e',
    '\\',
    ';',
    '..;x',
    ';jsessionid=1',
    '%3b',
    '%41',
    '%7E',
    '%zz',
    '%',
    '%2',
    'admin',
    'public',
    '\u0000',
    '\t',
    ' ',
    '\u00e9',
    '\ud800',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
)
const PATH = fc.array(PIECE, { maxLength: 24 }).map((pieces) => `/${pieces.join('')}`)
/** Long runs of one hostile piece, so a super-linear scan would show. */
const RUN = fc
  .tuple(fc.constantFrom('%2e', '/', '%', '.', ';', 'a', '%41'), fc.integer({ min: 1, max: 700 }))
  .map(([piece, count]) => `/${piece.repeat(count)}`)

type Outcome = { path: string } | { reason: string }

function normalise(raw: string, allowParameters = false): Outcome {
  const started = performance.now()
  try {
    return { path: normalisePath(raw, MAX_BYTES, { allowParameters }) }
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestPath)
    return { reason: (error as BadRequestPath).reason }
  } finally {
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  }
}

/** A WHATWG URL resolves dot segments (also `%2e`) and treats `\` as `/`, like many upstreams. */
function upstreamView(path: string): string {
  return new URL(path, 'http://upstream.test').pathname
}

describe('normalisePath (properties)', () => {
  it('answers any path with a normalised path or a BadRequestPath, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(PATH, RUN, fc.string({ maxLength: 300 })), fc.boolean(), (raw, p) => {
        normalise(raw, p)
      }),
      { numRuns: 3000 },
    )
  })

  it('is idempotent: a normalised path normalises to itself', () => {
    fc.assert(
      fc.property(PATH, fc.boolean(), (raw, allowParameters) => {
        const once = normalise(raw, allowParameters)
        if ('path' in once) expect(normalise(once.path, allowParameters)).toEqual(once)
      }),
      { numRuns: 3000 },
    )
  })

  it('leaves nothing an upstream could resolve or decode into another route', () => {
    fc.assert(
      fc.property(PATH, fc.boolean(), (raw, allowParameters) => {
        const result = normalise(raw, allowParameters)
        if (!('path' in result)) return
        const { path } = result
        expect(path.startsWith('/')).toBe(true)
        expect(path).toMatch(/^[\x21-\x7e]*$/)
        // Every escape left is two upper-case hex digits, and none is a separator, a dot, a
        // second level of encoding or a control character.
        expect(path).not.toMatch(/%(?![0-9A-F]{2})/)
        expect(path).not.toMatch(/%(2E|2F|5C|25|[01][0-9A-F]|7F)/)
        const segments = path.split('/').slice(1)
        for (const [index, segment] of segments.entries()) {
          const beforeParameters = segment.split(';', 1)[0]
          expect(beforeParameters === '.' || beforeParameters === '..').toBe(false)
          if (index < segments.length - 1) expect(segment).not.toBe('')
        }
        if (!/[?#]/.test(path)) {
          // The upstream sees the same segments the gateway matched: nothing collapses.
          expect(upstreamView(path).split('/').length).toBe(path.split('/').length)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('never lets a path under /public reach /admin once an upstream resolves it', () => {
    fc.assert(
      fc.property(fc.array(PIECE, { maxLength: 12 }), (pieces) => {
        const result = normalise(`/public/${pieces.join('')}admin`)
        if ('path' in result && !/[?#]/.test(result.path)) {
          expect(upstreamView(result.path).startsWith('/public/')).toBe(true)
        }
      }),
      { numRuns: 3000 },
    )
  })
})
