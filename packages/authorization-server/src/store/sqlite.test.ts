import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { describeStoreContract, sampleToken } from '../test-support/store-contract.js'
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
