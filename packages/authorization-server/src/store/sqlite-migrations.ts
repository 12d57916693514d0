/**
 * Versioned schema migrations of the SQLite driver. Each entry runs once, in order, inside a
 * transaction, and is recorded in `schema_migrations`. Never edit a shipped migration: add one.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT,
        token_endpoint_auth_method TEXT NOT NULL,
        jwks TEXT,
        redirect_uris TEXT NOT NULL,
        post_logout_redirect_uris TEXT NOT NULL,
        grant_types TEXT NOT NULL,
        scopes TEXT NOT NULL,
        audiences TEXT NOT NULL,
        token_format TEXT NOT NULL,
        first_party INTEGER NOT NULL,
        require_par INTEGER NOT NULL,
        access_token_ttl_seconds INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        encrypted_private_jwk TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
        created_at INTEGER NOT NULL,
        activated_at INTEGER,
        retired_at INTEGER,
        publish_until INTEGER
      );
      CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        jti TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        audience TEXT NOT NULL,
        claims TEXT NOT NULL,
        format TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        family_id TEXT,
        code_hash TEXT,
        used_at INTEGER,
        jwt TEXT
      );
      CREATE INDEX tokens_family ON tokens (family_id) WHERE family_id IS NOT NULL;
      CREATE INDEX tokens_code ON tokens (code_hash) WHERE code_hash IS NOT NULL;
      CREATE INDEX tokens_expiry ON tokens (expires_at);
      CREATE TABLE authorization_codes (
        hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        scope TEXT NOT NULL,
        audience TEXT NOT NULL,
        code_challenge TEXT NOT NULL,
        nonce TEXT,
        auth_time INTEGER NOT NULL,
        claims TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE TABLE assertion_jtis (
        client_id TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (client_id, jti)
      );
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        encrypted_totp_secret TEXT,
        last_totp_step INTEGER,
        claims TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE login_sessions (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        auth_time INTEGER NOT NULL,
        amr TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE consents (
        user_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        scopes TEXT NOT NULL,
        PRIMARY KEY (user_id, client_id)
      );
      CREATE TABLE pushed_requests (
        hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        parameters TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        client_id TEXT,
        subject TEXT,
        token_id TEXT,
        request_id TEXT,
        event TEXT NOT NULL
      );
      CREATE INDEX audit_time ON audit_events (time);
      CREATE INDEX audit_token ON audit_events (token_id) WHERE token_id IS NOT NULL;
      CREATE INDEX audit_request ON audit_events (request_id) WHERE request_id IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'authorization codes remember when they were replayed',
    // A token still being issued from a code when a replay of that code arrives is inserted
    // already revoked (the insert reads this column), as the PostgreSQL driver does.
    sql: 'ALTER TABLE authorization_codes ADD COLUMN replayed_at INTEGER;',
  },
]
