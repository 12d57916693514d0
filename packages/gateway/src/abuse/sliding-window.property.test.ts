import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSlidingWindows } from './sliding-window.js'

interface Step {
  readonly advanceMs: number
  readonly key: string
  readonly value: string
  readonly marked: boolean
  readonly reset: boolean
}

const STEP: fc.Arbitrary<Step> = fc.record({
  advanceMs: fc.oneof(fc.constant(0), fc.nat(1_500), fc.nat(12_000)),
  key: fc.constantFrom('a', 'b', 'c'),
  value: fc.constantFrom('/orders/1', '/orders/2', '/orders/3', '/orders/4', ''),
  marked: fc.boolean(),
  reset: fc.nat(19).map((draw) => draw === 0),
})

describe('sliding windows', () => {
  it('count what a log of the window holds, whatever the order of requests', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(STEP, { maxLength: 300 }),
        (windowSeconds, maxEntriesPerKey, steps) => {
          let clock = 1_000_000
          const windows = createSlidingWindows({
            windowSeconds,
            maxKeys: 10,
            maxEntriesPerKey,
            now: () => clock,
          })
          // The model: every entry of every key, filtered and capped on each request.
          const logs = new Map<string, { at: number; value: string; marked: boolean }[]>()
          for (const step of steps) {
            clock += step.advanceMs
            if (step.reset) {
              windows.reset(step.key)
              logs.delete(step.key)
              continue
            }
            const kept = (logs.get(step.key) ?? []).filter(
              (entry) => entry.at > clock - windowSeconds * 1000,
            )
            kept.push({ at: clock, value: step.value, marked: step.marked })
            const log = kept.slice(-maxEntriesPerKey)
            logs.set(step.key, log)
            expect(windows.record(step.key, step.value, step.marked)).toEqual({
              entries: log.length,
              distinct: new Set(log.map((entry) => entry.value)).size,
              marked: log.filter((entry) => entry.marked).length,
            })
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('forget the least recently used key beyond maxKeys', () => {
    const windows = createSlidingWindows({
      windowSeconds: 60,
      maxKeys: 2,
      maxEntriesPerKey: 10,
      now: () => 0,
    })
    windows.record('a', 'x')
    windows.record('b', 'x')
    windows.record('c', 'x')
    expect(windows.record('a', 'y')).toEqual({ entries: 1, distinct: 1, marked: 0 })
    expect(windows.record('c', 'y')).toEqual({ entries: 2, distinct: 2, marked: 0 })
  })
})
