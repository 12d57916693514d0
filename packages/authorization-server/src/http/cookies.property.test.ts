import type { IncomingMessage } from 'node:http'
import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readCookie } from './cookies.js'

/** Far above any honest parse of these sizes; a runaway parse would blow through it. */
const GENEROUS_MS = 500
const NAME = '__Host-gatehouse-session'
const PIECE = fc.oneof(
  fc.constantFrom(
    `${NAME}=a`,
    `${NAME}=b`,
    ` ${NAME} = c `,
    `${NAME}`,
    `${NAME}x=d`,
    `x${NAME}=e`,
    ';',
    '=',
    '"',
    '',
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)
const HEADER = fc.oneof(
  fc.constant(undefined),
  fc.array(PIECE, { maxLength: 8 }).map((pieces) => pieces.join(';')),
  fc
    .tuple(fc.constantFrom(';', '=', `${NAME}=`), fc.nat(5000))
    .map(([piece, count]) => piece.repeat(count)),
)

/** node:http's request as readCookie sees it: only the parsed headers are read. */
function requestWith(cookie: string | undefined): IncomingMessage {
  return { headers: cookie === undefined ? {} : { cookie } } as IncomingMessage
}

describe('readCookie (properties)', () => {
  it('returns the value of a name sent once, and nothing for a name sent twice (cookie tossing)', () => {
    fc.assert(
      fc.property(HEADER, (header) => {
        const started = performance.now()
        const value = readCookie(requestWith(header), NAME)
        expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
        const copies = (header ?? '')
          .split(';')
          .filter((part) => part.includes('=') && part.slice(0, part.indexOf('=')).trim() === NAME)
        if (copies.length !== 1) expect(value).toBeUndefined()
        else expect(value).toBe((copies[0] ?? '').slice((copies[0] ?? '').indexOf('=') + 1).trim())
      }),
      { numRuns: 3000 },
    )
  })
})
