import { LRUCache } from 'lru-cache'

/**
 * Per-key sliding-window logs of (time, value), bounded in keys (LRU) and in entries per key, for
 * the abuse detectors. Hand-written because it is a few lines over lru-cache and no library
 * offers "distinct values per key within the last N seconds".
 */
export interface SlidingWindows<T> {
  /** Records `value` for `key` and returns the entries inside the window, oldest first. */
  record(key: string, value: T): readonly T[]
  reset(key: string): void
}

export function createSlidingWindows<T>(options: {
  readonly windowSeconds: number
  readonly maxKeys: number
  readonly maxEntriesPerKey: number
  readonly now: () => number
}): SlidingWindows<T> {
  const windows = new LRUCache<string, { times: number[]; values: T[] }>({ max: options.maxKeys })
  const windowMs = options.windowSeconds * 1000
  return {
    record(key, value) {
      const at = options.now()
      let log = windows.get(key)
      if (log === undefined) {
        log = { times: [], values: [] }
        windows.set(key, log)
      }
      let drop = 0
      while (drop < log.times.length && (log.times[drop] ?? 0) <= at - windowMs) drop++
      if (log.times.length - drop >= options.maxEntriesPerKey) drop++
      if (drop > 0) {
        log.times.splice(0, drop)
        log.values.splice(0, drop)
      }
      log.times.push(at)
      log.values.push(value)
      return log.values
    },
    reset(key) {
      windows.delete(key)
    },
  }
}
