import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQLITE_MIGRATIONS } from '@gatehouse/authorization-server'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuntimeConfigError } from './errors.js'
import { resolveSecretRef } from './secrets.js'
import { describeStore, migrateStore, openStore, resolveStore } from './store.js'

const postgresUrl =
  process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const postgresProblem = await probePostgres()
if (postgresProblem !== null && process.env.CI === 'true') {
  throw new Error(`PostgreSQL is required in CI (GATEHOUSE_TEST_POSTGRES_URL): ${postgresProblem}`)
}

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2_000 })
  try {
    await client.connect()
    return null
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await client.end().catch(() => undefined)
  }
}

function configErrorOf(run: () => unknown): RuntimeConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof RuntimeConfigError) return error
    throw error
  }
  throw new Error('expected a RuntimeConfigError')
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-runtime-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('secret references', () => {
  it('reads an environment variable or a file relative to the configuration folder', async () => {
    await writeFile(join(dir, 'url.txt'), 'postgres://db/gatehouse\n')
    const context = { env: { DB_URL: ' postgres://x/y ' }, baseDir: dir }
    expect(resolveSecretRef({ env: 'DB_URL' }, 'store.url', context)).toBe('postgres://x/y')
    expect(resolveSecretRef({ file: 'url.txt' }, 'store.url', context)).toBe(
      'postgres://db/gatehouse',
    )
  })

  it('names the key path and the variable, never a value, when one is missing', () => {
    const missing = configErrorOf(() =>
      resolveSecretRef({ env: 'NOPE' }, 'store.url', { env: {}, baseDir: dir }),
    )
    expect(missing.problems).toEqual([
      { keyPath: 'store.url', message: 'environment variable NOPE is not set' },
    ])
    const unreadable = configErrorOf(() =>
      resolveSecretRef({ file: 'absent.txt' }, 'state.url', { env: {}, baseDir: dir }),
    )
    expect(unreadable.message).toBe('state.url: cannot read secret file absent.txt (ENOENT)')
  })
})

describe('store selection', () => {
  const context = (url: string) => ({ env: { DB_URL: url }, baseDir: dir })

  it('takes a SQLite path as written', () => {
    expect(resolveStore({ driver: 'sqlite', path: 'data/gh.db' }, context(''))).toEqual({
      driver: 'sqlite',
      path: 'data/gh.db',
    })
  })

  it('takes a PostgreSQL URL from the environment, the schema from its schema parameter', () => {
    const store = resolveStore(
      { driver: 'postgres', url: { env: 'DB_URL' } },
      context('postgres://gh:s3cret@db.internal:5432/gatehouse?schema=tenant_a&sslmode=require'),
    )
    expect(store).toEqual({
      driver: 'postgres',
      url: 'postgres://gh:s3cret@db.internal:5432/gatehouse?sslmode=require',
      schema: 'tenant_a',
    })
    expect(describeStore(store)).toBe(
      'PostgreSQL postgres://gh:***@db.internal:5432/gatehouse?sslmode=require (schema tenant_a)',
    )
    expect(
      resolveStore({ driver: 'postgres', url: { env: 'DB_URL' } }, context('postgres://db/gh')),
    ).toMatchObject({ schema: 'public' })
  })

  it('refuses a URL that is not PostgreSQL, malformed, or with an unsafe schema name', () => {
    const of = (url: string) =>
      configErrorOf(() =>
        resolveStore({ driver: 'postgres', url: { env: 'DB_URL' } }, context(url)),
      )
    expect(of('mysql://db/gh').message).toBe('store.url: must be a postgres:// URL, not mysql://')
    expect(of('not a url').problems[0]?.keyPath).toBe('store.url')
    expect(of('postgres://db/gh?schema=x";DROP TABLE clients;--').message).toMatch(
      /schema parameter must be lower-case/,
    )
  })

  it('migrates a new SQLite file once, then finds it up to date, and opens it', async () => {
    const store = { driver: 'sqlite', path: join(dir, 'gatehouse.db') } as const
    const first = await migrateStore(store)
    expect(first.applied.map((migration) => migration.version)).toEqual(
      SQLITE_MIGRATIONS.map((migration) => migration.version),
    )
    expect((await migrateStore(store)).applied).toEqual([])
    const opened = await openStore(store)
    try {
      expect(await opened.listSigningKeys()).toEqual([])
    } finally {
      await opened.close()
    }
  })

  describe.skipIf(postgresProblem !== null)('on PostgreSQL', () => {
    const schema = `gh_cli_${randomBytes(5).toString('hex')}`
    afterAll(async () => {
      const client = new pg.Client({ connectionString: postgresUrl })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)
      await client.end()
    })

    it('migrates a schema of its own once, then opens a store there', async () => {
      const url = new URL(postgresUrl)
      url.searchParams.set('schema', schema)
      const store = resolveStore(
        { driver: 'postgres', url: { env: 'DB_URL' } },
        context(url.toString()),
      )
      const first = await migrateStore(store)
      expect(first.applied.length).toBeGreaterThan(0)
      expect(first.applied[0]).toMatchObject({ version: 1, name: expect.any(String) })
      expect((await migrateStore(store)).applied).toEqual([])
      const opened = await openStore(store, { migrate: false })
      try {
        expect(await opened.getClient('nobody')).toBeNull()
      } finally {
        await opened.close()
      }
    })
  })
})
