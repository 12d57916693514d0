import pg from 'pg'

/**
 * Versioned schema migrations of the PostgreSQL driver. Each entry runs once, in order, and is
 * recorded in `schema_migrations` of the store's schema. Never edit a shipped migration: add one.
 * `{schema}` is replaced by the quoted schema name.
 *
 * Times are epoch milliseconds in BIGINT (as in the SQLite driver, so records round-trip
 * unchanged); structured values are JSONB.
 */
export interface PostgresMigration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE {schema}.clients (
        client_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT,
        token_endpoint_auth_method TEXT NOT NULL,
        jwks JSONB,
        redirect_uris JSONB NOT NULL,
        post_logout_redirect_uris JSONB NOT NULL,
        grant_types JSONB NOT NULL,
        scopes JSONB NOT NULL,
        audiences JSONB NOT NULL,
        token_format TEXT NOT NULL,
        first_party BOOLEAN NOT NULL,
        require_par BOOLEAN NOT NULL,
        access_token_ttl_seconds INTEGER,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE {schema}.signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk JSONB NOT NULL,
        encrypted_private_jwk TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
        created_at BIGINT NOT NULL,
        activated_at BIGINT,
        retired_at BIGINT,
        publish_until BIGINT
      );
      CREATE TABLE {schema}.tokens (
        hash TEXT PRIMARY KEY,
        jti TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        audience JSONB NOT NULL,
        claims JSONB NOT NULL,
        format TEXT NOT NULL,
        issued_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        family_id TEXT,
        code_hash TEXT,
        used_at BIGINT,
        jwt TEXT
      );
      CREATE INDEX tokens_family ON {schema}.tokens (family_id) WHERE family_id IS NOT NULL;
      CREATE INDEX tokens_code ON {schema}.tokens (code_hash) WHERE code_hash IS NOT NULL;
      CREATE INDEX tokens_expiry ON {schema}.tokens (expires_at);
      CREATE TABLE {schema}.authorization_codes (
        hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        scope TEXT NOT NULL,
        audience JSONB NOT NULL,
        code_challenge TEXT NOT NULL,
        nonce TEXT,
        auth_time BIGINT NOT NULL,
        claims JSONB NOT NULL,
        issued_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT,
        -- Set when a replay is detected: tokens still being issued from the code are born revoked.
        replayed_at BIGINT
      );
      CREATE INDEX authorization_codes_expiry ON {schema}.authorization_codes (expires_at);
      CREATE TABLE {schema}.assertion_jtis (
        client_id TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (client_id, jti)
      );
      CREATE TABLE {schema}.users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        encrypted_totp_secret TEXT,
        last_totp_step BIGINT,
        claims JSONB NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until BIGINT,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE {schema}.login_sessions (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        auth_time BIGINT NOT NULL,
        amr JSONB NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE {schema}.consents (
        user_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        scopes JSONB NOT NULL,
        PRIMARY KEY (user_id, client_id)
      );
      CREATE TABLE {schema}.pushed_requests (
        hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        parameters JSONB NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE {schema}.audit_events (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        time BIGINT NOT NULL,
        type TEXT NOT NULL,
        client_id TEXT,
        subject TEXT,
        token_id TEXT,
        request_id TEXT,
        event JSONB NOT NULL
      );
      CREATE INDEX audit_time ON {schema}.audit_events (time);
      CREATE INDEX audit_token ON {schema}.audit_events (token_id) WHERE token_id IS NOT NULL;
      CREATE INDEX audit_request ON {schema}.audit_events (request_id) WHERE request_id IS NOT NULL;
    `,
  },
]

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** The quoted schema name; a caller mistake (not request input) throws a TypeError. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      `invalid PostgreSQL schema name ${JSON.stringify(schema)}: lower-case letters, digits and _ only`,
    )
  }
  return pg.escapeIdentifier(schema)
}

/**
 * Runs the pending migrations in one transaction under a transaction-scoped advisory lock keyed
 * by the schema, so several instances starting at once apply each migration exactly once (the
 * others wait, then find nothing to do). Returns the versions this call applied.
 */
export async function migratePostgres(
  pool: pg.Pool,
  options: {
    readonly schema?: string
    readonly migrations?: readonly PostgresMigration[]
    readonly now?: () => number
  } = {},
): Promise<number[]> {
  const schemaName = options.schema ?? 'public'
  const schema = quoteSchema(schemaName)
  const migrations = options.migrations ?? POSTGRES_MIGRATIONS
  const now = options.now ?? Date.now
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `gatehouse.migrate.${schemaName}`,
    ])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    )
    const applied = new Set(
      (
        await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)
      ).rows.map((row) => Number(row.version)),
    )
    const ran: number[] = []
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      await client.query(migration.sql.replaceAll('{schema}', schema))
      await client.query(
        `INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
        [migration.version, migration.name, now()],
      )
      ran.push(migration.version)
    }
    await client.query('COMMIT')
    return ran
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
