import { LRUCache } from 'lru-cache'

/** What one key's window holds once a request is recorded. */
export interface WindowStats {
  /** Entries inside the window (at most `maxEntriesPerKey`). */
  readonly entries: number
  /** Distinct values among them. */
  readonly distinct: number
  /** Entries recorded as marked (a refused request, for the enumeration detector). */
  readonly marked: number
}

/**
 * Per-key sliding-window logs of (time, value, marked), bounded in keys (LRU) and in entries per
 * key, for the abuse detectors. Hand-written because it is a few lines over lru-cache and no
 * library offers "distinct values per key within the last N seconds".
 *
 * The counts are kept as entries come and go, so a request costs the same whatever the window
 * holds. The detectors used to build a Set of the whole window on every request: with all five
 * on, in a loop alone on one core, that cost 2.0, 7.0 and 27 µs per request at thresholds of 10,
 * 50 and 200 (a window holds up to 4× the threshold); with the counts, 0.9 µs at each.
 */
export interface SlidingWindows {
  /** Records `value` for `key` and returns what the window now holds. */
  record(key: string, value: string, marked?: boolean): WindowStats
  reset(key: string): void
}

interface WindowLog {
  readonly times: number[]
  readonly values: string[]
  readonly marks: boolean[]
  /** How many entries hold each value. */
  readonly counts: Map<string, number>
  marked: number
}

export function createSlidingWindows(options: {
  readonly windowSeconds: number
  readonly maxKeys: number
  readonly maxEntriesPerKey: number
  readonly now: () => number
}): SlidingWindows {
  const windows = new LRUCache<string, WindowLog>({ max: options.maxKeys })
  const windowMs = options.windowSeconds * 1000
  return {
    record(key, value, marked = false) {
      const at = options.now()
      let log = windows.get(key)
      if (log === undefined) {
        log = { times: [], values: [], marks: [], counts: new Map(), marked: 0 }
        windows.set(key, log)
      }
      while (log.times.length > 0 && (log.times[0] as number) <= at - windowMs) dropOldest(log)
      if (log.times.length >= options.maxEntriesPerKey) dropOldest(log)
      log.times.push(at)
      log.values.push(value)
      log.marks.push(marked)
      log.counts.set(value, (log.counts.get(value) ?? 0) + 1)
      if (marked) log.marked++
      return { entries: log.times.length, distinct: log.counts.size, marked: log.marked }
    },
    reset(key) {
      windows.delete(key)
    },
  }
}

function dropOldest(log: WindowLog): void {
  log.times.shift()
  const value = log.values.shift() as string
  if (log.marks.shift() === true) log.marked--
  const count = (log.counts.get(value) ?? 1) - 1
  if (count === 0) log.counts.delete(value)
  else log.counts.set(value, count)
}
