import {
  type AuthorizationServerStore,
  createPostgresStore,
  createSqliteStore,
  migratePostgres,
  migrateSqlite,
  POSTGRES_MIGRATIONS,
} from '@gatehouse/authorization-server'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { GatehouseConfig } from '../config/schema.js'
import { RuntimeConfigError } from './errors.js'
import { resolveSecretRef, type SecretContext } from './secrets.js'

export type StoreSettings = NonNullable<GatehouseConfig['store']>

/** Where the authorization server's store lives, its secrets resolved. */
export type ResolvedStore =
  | { readonly driver: 'sqlite'; readonly path: string }
  | {
      readonly driver: 'postgres'
      /** The connection URL without the `schema` parameter (it may hold a password: never print it). */
      readonly url: string
      readonly schema: string
    }

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Resolves the `store` section. A PostgreSQL URL may name the schema holding the tables with a
 * `schema` query parameter (`postgres://gatehouse@db:5432/gatehouse?schema=gatehouse`, default
 * `public`), so several deployments can share one database.
 */
export function resolveStore(settings: StoreSettings, context: SecretContext): ResolvedStore {
  if (settings.driver === 'sqlite') return { driver: 'sqlite', path: settings.path }
  const raw = resolveSecretRef(settings.url, 'store.url', context)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new RuntimeConfigError('store.url', 'is not a URL (postgres://user@host:5432/database)')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new RuntimeConfigError('store.url', `must be a postgres:// URL, not ${url.protocol}//`)
  }
  const schema = url.searchParams.get('schema') ?? 'public'
  if (!SCHEMA_NAME.test(schema)) {
    throw new RuntimeConfigError(
      'store.url',
      'the schema parameter must be lower-case letters, digits and _ (at most 63)',
    )
  }
  url.searchParams.delete('schema')
  return { driver: 'postgres', url: url.toString(), schema }
}

/** How the store is named in logs and output: never the password of a URL. */
export function describeStore(store: ResolvedStore): string {
  if (store.driver === 'sqlite') return `SQLite ${store.path}`
  const url = new URL(store.url)
  if (url.password !== '') url.password = '***'
  return `PostgreSQL ${url.toString()} (schema ${store.schema})`
}

export interface OpenStoreOptions {
  /** Run pending migrations on open (default true, as the store itself does). */
  readonly migrate?: boolean
  /** Errors of idle pooled PostgreSQL connections. */
  readonly onError?: (error: Error) => void
}

export async function openStore(
  store: ResolvedStore,
  options: OpenStoreOptions = {},
): Promise<AuthorizationServerStore> {
  if (store.driver === 'sqlite') return createSqliteStore({ path: store.path })
  return createPostgresStore({
    url: store.url,
    schema: store.schema,
    migrate: options.migrate ?? true,
    ...(options.onError === undefined ? {} : { onPoolError: options.onError }),
  })
}

export interface MigrationReport {
  readonly store: string
  /** The migrations this run applied (none when the store was up to date). */
  readonly applied: readonly { readonly version: number; readonly name: string | null }[]
}

/** `gatehouse migrate`: the store's versioned migrations, each applied once. */
export async function migrateStore(store: ResolvedStore): Promise<MigrationReport> {
  if (store.driver === 'sqlite') {
    const db = new Database(store.path)
    try {
      const applied = migrateSqlite(db)
      return {
        store: describeStore(store),
        applied: applied.map((version) => ({ version, name: null })),
      }
    } finally {
      db.close()
    }
  }
  const pool = new pg.Pool({ connectionString: store.url, max: 1, connectionTimeoutMillis: 5_000 })
  pool.on('error', () => undefined)
  try {
    const applied = await migratePostgres(pool, { schema: store.schema })
    const names = new Map(
      POSTGRES_MIGRATIONS.map((migration) => [migration.version, migration.name]),
    )
    return {
      store: describeStore(store),
      applied: applied.map((version) => ({ version, name: names.get(version) ?? null })),
    }
  } finally {
    await pool.end()
  }
}
