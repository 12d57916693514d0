import { describe, expect, it } from 'vitest'
import { timeOrderedId } from './index.js'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('timeOrderedId', () => {
  it('is an RFC 9562 UUIDv7 carrying the given millisecond', () => {
    const msecs = Date.parse('2026-03-01T12:00:00.123Z')
    const id = timeOrderedId(msecs)
    expect(id).toMatch(UUID_V7)
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(msecs)
  })

  it('sorts by time across milliseconds', () => {
    const ids = [3, 1, 2].map((ms) => timeOrderedId(Date.parse('2026-03-01T12:00:00Z') + ms))
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]])
  })

  it('never repeats, also within one millisecond and across refills of the random buffer', () => {
    const msecs = Date.parse('2026-03-01T12:00:00Z')
    const ids = Array.from({ length: 2_000 }, () => timeOrderedId(msecs))
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(UUID_V7)
    // 74 random bits per id: the random tails of consecutive ids differ.
    const tails = new Set(ids.map((id) => id.slice(15)))
    expect(tails.size).toBe(ids.length)
  })
})
