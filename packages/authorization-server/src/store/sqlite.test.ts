import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { describeStoreContract } from '../test-support/store-contract.js'
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
