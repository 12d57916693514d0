import type Database from 'better-sqlite3'
import type { ClientRecord } from './store.js'

/**
 * The clients read by client authentication on every back-channel request, kept in memory with
 * no staleness: SQLite's `PRAGMA data_version` changes whenever another connection (another
 * worker process, the CLI) commits to the file, and then the whole cache is dropped. Changes
 * through this connection drop their own entry. Checking the version costs far less than reading
 * and decoding the client row. Unknown client ids are never cached (no memory growth from
 * guessed ids), and the cache holds at most `maxEntries` clients.
 */
export interface SqliteClientCache {
  get(clientId: string, load: () => ClientRecord | null): ClientRecord | null
  forget(clientId: string): void
}

export function createSqliteClientCache(
  db: Database.Database,
  maxEntries = 1_000,
): SqliteClientCache {
  const dataVersion = db.prepare('PRAGMA data_version').pluck()
  const clients = new Map<string, ClientRecord>()
  let seenVersion: unknown = null
  return {
    get(clientId, load) {
      const version = dataVersion.get()
      if (version !== seenVersion) {
        clients.clear()
        seenVersion = version
      }
      const cached = clients.get(clientId)
      if (cached !== undefined) return cached
      const client = load()
      if (client !== null) {
        if (clients.size >= maxEntries) clients.clear()
        clients.set(clientId, client)
      }
      return client
    },
    forget(clientId) {
      clients.delete(clientId)
    },
  }
}
