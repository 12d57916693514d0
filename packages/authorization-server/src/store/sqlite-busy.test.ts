import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { TemporarilyUnavailable } from '../errors.js'
import { sampleClient, sampleToken } from '../test-support/store-contract.js'
import { createSqliteStore } from './sqlite.js'
import { asBusyUnavailable } from './sqlite-busy.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function sqliteError(code: string): Error {
  return Object.assign(new Error(`${code}: database is locked`), { code })
}

describe('asBusyUnavailable', () => {
  it.each([
    'SQLITE_BUSY',
    'SQLITE_BUSY_SNAPSHOT',
    'SQLITE_BUSY_RECOVERY',
    'SQLITE_BUSY_TIMEOUT',
    'SQLITE_LOCKED',
    'SQLITE_LOCKED_SHAREDCACHE',
  ])('makes %s a TemporarilyUnavailable that keeps the cause', (code) => {
    const error = sqliteError(code)
    const mapped = asBusyUnavailable(error)
    expect(mapped).toBeInstanceOf(TemporarilyUnavailable)
    expect(mapped).toMatchObject({ status: 503, reason: 'store.unavailable', cause: error })
  })

  it.each([
    ['a constraint', sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY')],
    ['an I/O error', sqliteError('SQLITE_IOERR')],
    ['an error without a code', new Error('boom')],
    ['a non-Error value', 'SQLITE_BUSY'],
  ])('leaves %s alone', (_, error) => {
    expect(asBusyUnavailable(error)).toBe(error)
  })
})

describe('the SQLite store while another connection holds the write lock', () => {
  it('answers 503 temporarily_unavailable after its busy timeout, and writes once the lock is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-busy-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'gatehouse.sqlite')
    const store = createSqliteStore({ path, busyTimeoutMs: 50, onError: () => undefined })
    cleanups.push(() => store.close())
    await store.createClient(sampleClient())
    const other = new Database(path)
    cleanups.push(() => other.close())
    other.exec('BEGIN IMMEDIATE') // another process (the CLI, a backup) holds the write lock

    const token = sampleToken({ hash: 'busy', jti: 'busy' })
    const refused = await store.insertToken(token).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(TemporarilyUnavailable)
    expect((refused as TemporarilyUnavailable).cause).toMatchObject({ code: 'SQLITE_BUSY' })
    await expect(store.createClient(sampleClient({ clientId: 'client-2' }))).rejects.toBeInstanceOf(
      TemporarilyUnavailable,
    )
    // Reads go on in WAL mode, and nothing was written.
    expect(await store.getClient('client-1')).toMatchObject({ clientId: 'client-1' })
    expect(await store.getTokenByHash('busy')).toBeNull()

    other.exec('COMMIT')
    await store.insertToken(token)
    expect(await store.getTokenByHash('busy')).toMatchObject({ jti: 'busy' })
  })

  it('refuses a busy timeout that is not a whole number of milliseconds', () => {
    expect(() => createSqliteStore({ path: ':memory:', busyTimeoutMs: -1 })).toThrow(
      'busyTimeoutMs must be a whole number',
    )
    expect(() => createSqliteStore({ path: ':memory:', busyTimeoutMs: 1.5 })).toThrow(
      'busyTimeoutMs must be a whole number',
    )
  })
})
