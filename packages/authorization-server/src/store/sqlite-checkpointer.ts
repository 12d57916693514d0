import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL back into the database file
 * and fsyncs both; run by SQLite's auto-checkpoint inside a commit, that fsync blocks the thread
 * serving requests for milliseconds every ~1,000 pages (a few hundred tokens). Here a worker
 * thread with its own connection runs a PASSIVE checkpoint (never blocks writers, never waits)
 * every `intervalMs`, so the request thread only writes to the WAL. The request thread keeps an
 * auto-checkpoint at a high threshold as a safety valve: under sustained load the WAL is rarely
 * fully copied at the moment a write starts (the condition for SQLite to restart it), and that
 * checkpoint, finding most pages already copied, bounds the WAL file at that size.
 *
 * Written by hand because no maintained library schedules better-sqlite3 checkpoints in a
 * worker. The worker's source is inline (eval) so it runs the same from `src` and `dist`.
 */
export interface SqliteCheckpointer {
  stop(): Promise<void>
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 0')
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // Busy or locked: the next tick (or the writer's safety valve) checkpoints.
  }
}, workerData.intervalMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.postMessage('closed')
})
`

export function startSqliteCheckpointer(
  path: string,
  options: { readonly intervalMs?: number; readonly onError?: (error: unknown) => void } = {},
): SqliteCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, path, intervalMs: options.intervalMs ?? 100 },
  })
  worker.unref()
  let exited = false
  worker.once('exit', () => {
    exited = true
  })
  worker.on('error', (error) => options.onError?.(error))
  let stopping: Promise<void> | null = null
  async function stopWorker(): Promise<void> {
    if (exited) return
    const closed = new Promise<void>((resolve) => {
      worker.once('message', () => resolve())
      worker.once('exit', () => resolve())
    })
    worker.postMessage('close')
    await closed
    await worker.terminate()
  }
  return {
    stop() {
      stopping ??= stopWorker()
      return stopping
    },
  }
}
