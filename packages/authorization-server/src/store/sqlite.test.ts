import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it, vi } from 'vitest'
import { describeStoreContract, sampleClient, sampleToken } from '../test-support/store-contract.js'
import { createSqliteStore, migrateSqlite } from './sqlite.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'

describeStoreContract('sqlite', async () => createSqliteStore({ path: ':memory:' }))

describe('sqlite migrations', () => {
  it('applies each migration once and records its version', () => {
    const db = new Database(':memory:')
    expect(migrateSqlite(db)).toEqual(SQLITE_MIGRATIONS.map((migration) => migration.version))
    expect(migrateSqlite(db)).toEqual([])
    const versions = db.prepare('SELECT version FROM schema_migrations').all()
    expect(versions).toHaveLength(SQLITE_MIGRATIONS.length)
    db.close()
  })
})

describe('sqlite group commit', () => {
  it('commits concurrent inserts together and fails only the caller whose row is refused', async () => {
    const store = createSqliteStore({ path: ':memory:' })
    const results = await Promise.allSettled([
      store.insertToken(sampleToken({ hash: 'a', jti: 'a' })),
      store.insertToken(sampleToken({ hash: 'b', jti: 'a' })),
      store.insertToken(sampleToken({ hash: 'c', jti: 'c' })),
    ])
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((await store.getTokenByHash('c'))?.jti).toBe('c')
    await expect(store.getTokenByHash('b')).resolves.toBeNull()
    await store.close()
  })
})

describe('sqlite background checkpoints', () => {
  it('copies committed pages into the database file without the request thread checkpointing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-checkpoint-'))
    const path = join(dir, 'store.sqlite')
    try {
      const store = createSqliteStore({ path })
      const before = statSync(path).size
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.insertToken(sampleToken({ hash: `h${i}`, jti: `j${i}` })),
        ),
      )
      // The request thread's threshold (10,000 pages) is far away: only the worker copies pages.
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before), {
        timeout: 5_000,
        interval: 50,
      })
      expect((await store.getTokenByHash('h199'))?.jti).toBe('j199')
      await store.close()
      await store.close()
      const reopened = createSqliteStore({ path })
      expect((await reopened.getTokenByHash('h0'))?.jti).toBe('j0')
      await reopened.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('sqlite client cache', () => {
  it('sees a secret rotated or a client deleted through another connection at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-client-cache-'))
    const path = join(dir, 'store.sqlite')
    const serving = createSqliteStore({ path })
    const admin = createSqliteStore({ path })
    try {
      await admin.createClient(sampleClient({ secretHash: 'old' }))
      expect((await serving.getClient('client-1'))?.secretHash).toBe('old')
      expect((await serving.getClient('client-1'))?.secretHash).toBe('old')
      await admin.updateClient(sampleClient({ secretHash: 'new' }))
      expect((await serving.getClient('client-1'))?.secretHash).toBe('new')
      await serving.updateClient(sampleClient({ secretHash: 'newer' }))
      expect((await serving.getClient('client-1'))?.secretHash).toBe('newer')
      await admin.deleteClient('client-1')
      await expect(serving.getClient('client-1')).resolves.toBeNull()
    } finally {
      await serving.close()
      await admin.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
