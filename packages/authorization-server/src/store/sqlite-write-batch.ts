import type Database from 'better-sqlite3'

/**
 * Group commit for the SQLite driver's hot inserts (issued tokens, audit events). Each commit
 * writes every touched page to the WAL, so one transaction per token costs far more than the
 * insert itself; inserts queued in the same turn of the event loop are committed together, and
 * each caller's promise settles after that commit (the same durability as committing alone). A
 * failing batch is replayed one insert at a time, so one bad row fails only its own caller.
 */
export interface WriteBatch {
  run(write: () => void): Promise<void>
  /** Commits whatever is queued now (before close). */
  flush(): void
}

export function createWriteBatch(db: Database.Database): WriteBatch {
  let queue: { write: () => void; resolve: () => void; reject: (error: unknown) => void }[] = []
  let scheduled = false

  function flush(): void {
    scheduled = false
    const batch = queue
    queue = []
    if (batch.length === 0 || !db.open) return
    try {
      db.transaction(() => {
        for (const item of batch) item.write()
      })()
      for (const item of batch) item.resolve()
    } catch {
      for (const item of batch) {
        try {
          item.write()
          item.resolve()
        } catch (error) {
          item.reject(error)
        }
      }
    }
  }

  return {
    run(write) {
      return new Promise((resolve, reject) => {
        queue.push({ write, resolve, reject })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    flush,
  }
}
