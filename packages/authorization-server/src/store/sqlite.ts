import type { AuditEvent } from '@gatehouse/audit'
import Database from 'better-sqlite3'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'
import type {
  AuditQuery,
  AuthorizationCodeRecord,
  AuthorizationServerStore,
  ClientRecord,
  LoginSessionRecord,
  PushedRequestRecord,
  RedeemCodeResult,
  RotateRefreshResult,
  SigningKeyRecord,
  SweepResult,
  TokenRecord,
  UserRecord,
} from './store.js'

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for tests. */
  readonly path: string
  /** How long an authorization code row is kept after it expired, so a late replay is still
   * recognised and revokes what the code issued. Default: 24 hours. */
  readonly codeRetentionMs?: number
}

type Row = Record<string, unknown>

const json = (value: unknown): string => JSON.stringify(value)
const parse = <T>(value: unknown): T => JSON.parse(String(value)) as T
const nullableNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)
const nullableString = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value)

function clientFromRow(row: Row): ClientRecord {
  return {
    clientId: String(row.client_id),
    name: String(row.name),
    secretHash: nullableString(row.secret_hash),
    tokenEndpointAuthMethod:
      row.token_endpoint_auth_method as ClientRecord['tokenEndpointAuthMethod'],
    jwks: row.jwks === null ? null : parse(row.jwks),
    redirectUris: parse(row.redirect_uris),
    postLogoutRedirectUris: parse(row.post_logout_redirect_uris),
    grantTypes: parse(row.grant_types),
    scopes: parse(row.scopes),
    audiences: parse(row.audiences),
    tokenFormat: row.token_format as ClientRecord['tokenFormat'],
    firstParty: row.first_party === 1,
    requirePushedAuthorizationRequests: row.require_par === 1,
    accessTokenTtlSeconds: nullableNumber(row.access_token_ttl_seconds),
    createdAt: Number(row.created_at),
  }
}

function clientToRow(client: ClientRecord): Row {
  return {
    client_id: client.clientId,
    name: client.name,
    secret_hash: client.secretHash,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    jwks: client.jwks === null ? null : json(client.jwks),
    redirect_uris: json(client.redirectUris),
    post_logout_redirect_uris: json(client.postLogoutRedirectUris),
    grant_types: json(client.grantTypes),
    scopes: json(client.scopes),
    audiences: json(client.audiences),
    token_format: client.tokenFormat,
    first_party: client.firstParty ? 1 : 0,
    require_par: client.requirePushedAuthorizationRequests ? 1 : 0,
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    created_at: client.createdAt,
  }
}

function keyFromRow(row: Row): SigningKeyRecord {
  return {
    kid: String(row.kid),
    alg: String(row.alg),
    publicJwk: parse(row.public_jwk),
    encryptedPrivateJwk: String(row.encrypted_private_jwk),
    state: row.state as SigningKeyRecord['state'],
    createdAt: Number(row.created_at),
    activatedAt: nullableNumber(row.activated_at),
    retiredAt: nullableNumber(row.retired_at),
    publishUntil: nullableNumber(row.publish_until),
  }
}

function keyToRow(key: SigningKeyRecord): Row {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: json(key.publicJwk),
    encrypted_private_jwk: key.encryptedPrivateJwk,
    state: key.state,
    created_at: key.createdAt,
    activated_at: key.activatedAt,
    retired_at: key.retiredAt,
    publish_until: key.publishUntil,
  }
}

function tokenFromRow(row: Row): TokenRecord {
  return {
    hash: String(row.hash),
    jti: String(row.jti),
    kind: row.kind as TokenRecord['kind'],
    clientId: String(row.client_id),
    subject: String(row.subject),
    scope: String(row.scope),
    audience: parse(row.audience),
    claims: parse(row.claims),
    format: row.format as TokenRecord['format'],
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    revokedAt: nullableNumber(row.revoked_at),
    familyId: nullableString(row.family_id),
    codeHash: nullableString(row.code_hash),
    usedAt: nullableNumber(row.used_at),
    jwt: nullableString(row.jwt),
  }
}

function tokenToRow(token: TokenRecord): Row {
  return {
    hash: token.hash,
    jti: token.jti,
    kind: token.kind,
    client_id: token.clientId,
    subject: token.subject,
    scope: token.scope,
    audience: json(token.audience),
    claims: json(token.claims),
    format: token.format,
    issued_at: token.issuedAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
    family_id: token.familyId,
    code_hash: token.codeHash,
    used_at: token.usedAt,
    jwt: token.jwt,
  }
}

function codeFromRow(row: Row): AuthorizationCodeRecord {
  return {
    hash: String(row.hash),
    clientId: String(row.client_id),
    subject: String(row.subject),
    redirectUri: String(row.redirect_uri),
    scope: String(row.scope),
    audience: parse(row.audience),
    codeChallenge: String(row.code_challenge),
    nonce: nullableString(row.nonce),
    authTime: Number(row.auth_time),
    claims: parse(row.claims),
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    usedAt: nullableNumber(row.used_at),
  }
}

function pushedFromRow(row: Row): PushedRequestRecord {
  return {
    hash: String(row.hash),
    clientId: String(row.client_id),
    parameters: parse<Record<string, string>>(row.parameters),
    expiresAt: Number(row.expires_at),
  }
}

function userFromRow(row: Row): UserRecord {
  return {
    id: String(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    encryptedTotpSecret: nullableString(row.encrypted_totp_secret),
    lastTotpStep: nullableNumber(row.last_totp_step),
    claims: parse(row.claims),
    failedLogins: Number(row.failed_logins),
    lockedUntil: nullableNumber(row.locked_until),
    disabled: row.disabled === 1,
    createdAt: Number(row.created_at),
  }
}

function userToRow(user: UserRecord): Row {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    encrypted_totp_secret: user.encryptedTotpSecret,
    last_totp_step: user.lastTotpStep,
    claims: json(user.claims),
    failed_logins: user.failedLogins,
    locked_until: user.lockedUntil,
    disabled: user.disabled ? 1 : 0,
    created_at: user.createdAt,
  }
}

function columns(row: Row): { names: string; values: string; sets: string } {
  const keys = Object.keys(row)
  return {
    names: keys.join(', '),
    values: keys.map((key) => `@${key}`).join(', '),
    sets: keys.map((key) => `${key} = @${key}`).join(', '),
  }
}

/** Runs the pending migrations; returns the versions applied. */
export function migrateSqlite(db: Database.Database, now: () => number = Date.now): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  )
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((row) =>
      Number(row.version),
    ),
  )
  const ran: number[] = []
  for (const migration of SQLITE_MIGRATIONS) {
    if (applied.has(migration.version)) continue
    db.transaction(() => {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        now(),
      )
    })()
    ran.push(migration.version)
  }
  return ran
}

/** The embedded default store: SQLite through better-sqlite3, WAL mode, migrations on open. */
export function createSqliteStore(options: SqliteStoreOptions): AuthorizationServerStore {
  const db = new Database(options.path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  migrateSqlite(db)
  const codeRetentionMs = options.codeRetentionMs ?? 24 * 60 * 60 * 1000

  const clientCols = columns(clientToRow(sampleClient))
  const tokenCols = columns(tokenToRow(sampleToken))
  const userCols = columns(userToRow(sampleUser))
  const keyCols = columns(keyToRow(sampleKey))

  const statements = {
    insertClient: db.prepare(
      `INSERT INTO clients (${clientCols.names}) VALUES (${clientCols.values})`,
    ),
    getClient: db.prepare('SELECT * FROM clients WHERE client_id = ?'),
    listClients: db.prepare('SELECT * FROM clients ORDER BY created_at, client_id'),
    updateClient: db.prepare(`UPDATE clients SET ${clientCols.sets} WHERE client_id = @client_id`),
    deleteClient: db.prepare('DELETE FROM clients WHERE client_id = ?'),
    listKeys: db.prepare('SELECT * FROM signing_keys ORDER BY created_at, kid'),
    insertKey: db.prepare(`INSERT INTO signing_keys (${keyCols.names}) VALUES (${keyCols.values})`),
    updateKey: db.prepare(`UPDATE signing_keys SET ${keyCols.sets} WHERE kid = @kid`),
    insertToken: db.prepare(`INSERT INTO tokens (${tokenCols.names}) VALUES (${tokenCols.values})`),
    tokenByHash: db.prepare('SELECT * FROM tokens WHERE hash = ?'),
    tokenByJti: db.prepare('SELECT * FROM tokens WHERE jti = ?'),
    setJwt: db.prepare('UPDATE tokens SET jwt = ? WHERE hash = ? AND jwt IS NULL'),
    getJwt: db.prepare('SELECT jwt FROM tokens WHERE hash = ?'),
    revokeToken: db.prepare(
      'UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL RETURNING *',
    ),
    revokeFamily: db.prepare(
      'UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL RETURNING *',
    ),
    revokeFromCode: db.prepare(
      'UPDATE tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL RETURNING *',
    ),
    markUsed: db.prepare(
      "UPDATE tokens SET used_at = ? WHERE hash = ? AND kind = 'refresh_token' AND used_at IS NULL RETURNING *",
    ),
    insertCode: db.prepare(
      `INSERT INTO authorization_codes (hash, client_id, subject, redirect_uri, scope, audience, code_challenge, nonce, auth_time, claims, issued_at, expires_at, used_at)
       VALUES (@hash, @client_id, @subject, @redirect_uri, @scope, @audience, @code_challenge, @nonce, @auth_time, @claims, @issued_at, @expires_at, NULL)`,
    ),
    redeemCode: db.prepare(
      'UPDATE authorization_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING *',
    ),
    getCode: db.prepare('SELECT * FROM authorization_codes WHERE hash = ?'),
    recordJti: db.prepare(
      'INSERT INTO assertion_jtis (client_id, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    insertUser: db.prepare(`INSERT INTO users (${userCols.names}) VALUES (${userCols.values})`),
    userById: db.prepare('SELECT * FROM users WHERE id = ?'),
    userByName: db.prepare('SELECT * FROM users WHERE username = ?'),
    listUsers: db.prepare('SELECT * FROM users ORDER BY created_at, username'),
    updateUser: db.prepare(`UPDATE users SET ${userCols.sets} WHERE id = @id`),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    failLogin: db.prepare(
      `UPDATE users SET
         failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= @now THEN 1 ELSE failed_logins + 1 END,
         locked_until = CASE
           WHEN locked_until IS NOT NULL AND locked_until <= @now THEN NULL
           WHEN failed_logins + 1 >= @max THEN @lock_until
           ELSE locked_until END
       WHERE id = @id RETURNING failed_logins, locked_until`,
    ),
    succeedLogin: db.prepare(
      'UPDATE users SET failed_logins = 0, locked_until = NULL, last_totp_step = COALESCE(?, last_totp_step) WHERE id = ?',
    ),
    insertSession: db.prepare(
      'INSERT INTO login_sessions (hash, user_id, auth_time, amr, expires_at) VALUES (?, ?, ?, ?, ?)',
    ),
    getSession: db.prepare('SELECT * FROM login_sessions WHERE hash = ? AND expires_at > ?'),
    deleteSession: db.prepare('DELETE FROM login_sessions WHERE hash = ?'),
    getConsent: db.prepare('SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?'),
    saveConsent: db.prepare(
      'INSERT INTO consents (user_id, client_id, scopes) VALUES (?, ?, ?) ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes',
    ),
    insertPushed: db.prepare(
      'INSERT INTO pushed_requests (hash, client_id, parameters, expires_at) VALUES (?, ?, ?, ?)',
    ),
    getPushed: db.prepare('SELECT * FROM pushed_requests WHERE hash = ? AND expires_at > ?'),
    updatePushed: db.prepare(
      'UPDATE pushed_requests SET parameters = ?, expires_at = ? WHERE hash = ? AND client_id = ?',
    ),
    takePushed: db.prepare(
      'DELETE FROM pushed_requests WHERE hash = ? AND expires_at > ? RETURNING *',
    ),
    insertAudit: db.prepare(
      'INSERT INTO audit_events (id, time, type, client_id, subject, token_id, request_id, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    sweepTokens: db.prepare('DELETE FROM tokens WHERE expires_at <= ?'),
    sweepCodes: db.prepare('DELETE FROM authorization_codes WHERE expires_at <= ?'),
    sweepJtis: db.prepare('DELETE FROM assertion_jtis WHERE expires_at <= ?'),
    sweepSessions: db.prepare('DELETE FROM login_sessions WHERE expires_at <= ?'),
    sweepPushed: db.prepare('DELETE FROM pushed_requests WHERE expires_at <= ?'),
    sweepKeys: db.prepare(
      "DELETE FROM signing_keys WHERE state = 'retired' AND publish_until IS NOT NULL AND publish_until <= ?",
    ),
  }

  const rotateRefresh = db.transaction(
    (hash: string, successors: readonly TokenRecord[], now: number): RotateRefreshResult => {
      const used = statements.markUsed.get(now, hash) as Row | undefined
      if (used !== undefined) {
        for (const token of successors) statements.insertToken.run(tokenToRow(token))
        return { outcome: 'rotated', previous: tokenFromRow(used) }
      }
      const existing = statements.tokenByHash.get(hash) as Row | undefined
      if (existing === undefined || existing.kind !== 'refresh_token')
        return { outcome: 'not_found' }
      return { outcome: 'reused', previous: tokenFromRow(existing) }
    },
  )

  const redeemCode = db.transaction((hash: string, now: number): RedeemCodeResult => {
    const redeemed = statements.redeemCode.get(now, hash) as Row | undefined
    if (redeemed !== undefined) return { outcome: 'redeemed', code: codeFromRow(redeemed) }
    const existing = statements.getCode.get(hash) as Row | undefined
    if (existing === undefined) return { outcome: 'not_found' }
    return { outcome: 'replayed', code: codeFromRow(existing) }
  })

  const saveKeys = db.transaction(
    (created: readonly SigningKeyRecord[], updated: readonly SigningKeyRecord[]) => {
      for (const key of updated) statements.updateKey.run(keyToRow(key))
      for (const key of created) statements.insertKey.run(keyToRow(key))
    },
  )

  const sweep = db.transaction(
    (now: number): SweepResult => ({
      tokens: statements.sweepTokens.run(now).changes,
      codes: statements.sweepCodes.run(now - codeRetentionMs).changes,
      assertions: statements.sweepJtis.run(now).changes,
      sessions: statements.sweepSessions.run(now).changes,
      pushedRequests: statements.sweepPushed.run(now).changes,
      keys: statements.sweepKeys.run(now).changes,
    }),
  )

  const one = <T>(row: unknown, map: (row: Row) => T): T | null =>
    row === undefined ? null : map(row as Row)

  return {
    async createClient(client) {
      statements.insertClient.run(clientToRow(client))
    },
    async getClient(clientId) {
      return one(statements.getClient.get(clientId), clientFromRow)
    },
    async listClients() {
      return (statements.listClients.all() as Row[]).map(clientFromRow)
    },
    async updateClient(client) {
      return statements.updateClient.run(clientToRow(client)).changes === 1
    },
    async deleteClient(clientId) {
      return statements.deleteClient.run(clientId).changes === 1
    },
    async listSigningKeys() {
      return (statements.listKeys.all() as Row[]).map(keyFromRow)
    },
    async saveSigningKeys(change) {
      saveKeys(change.created, change.updated)
    },
    async insertToken(token) {
      statements.insertToken.run(tokenToRow(token))
    },
    async getTokenByHash(hash) {
      return one(statements.tokenByHash.get(hash), tokenFromRow)
    },
    async getTokenByJti(jti) {
      return one(statements.tokenByJti.get(jti), tokenFromRow)
    },
    async setTokenJwt(hash, jwt) {
      statements.setJwt.run(jwt, hash)
      const row = statements.getJwt.get(hash) as Row | undefined
      return nullableString(row?.jwt) ?? jwt
    },
    async revokeToken(hash, now) {
      return one(statements.revokeToken.get(now, hash), tokenFromRow)
    },
    async revokeTokenFamily(familyId, now) {
      return (statements.revokeFamily.all(now, familyId) as Row[]).map(tokenFromRow)
    },
    async revokeTokensFromCode(codeHash, now) {
      return (statements.revokeFromCode.all(now, codeHash) as Row[]).map(tokenFromRow)
    },
    async rotateRefreshToken(hash, successors, now) {
      return rotateRefresh(hash, successors, now)
    },
    async insertAuthorizationCode(code) {
      statements.insertCode.run({
        hash: code.hash,
        client_id: code.clientId,
        subject: code.subject,
        redirect_uri: code.redirectUri,
        scope: code.scope,
        audience: json(code.audience),
        code_challenge: code.codeChallenge,
        nonce: code.nonce,
        auth_time: code.authTime,
        claims: json(code.claims),
        issued_at: code.issuedAt,
        expires_at: code.expiresAt,
      })
    },
    async getAuthorizationCode(hash) {
      return one(statements.getCode.get(hash), codeFromRow)
    },
    async redeemAuthorizationCode(hash, now) {
      return redeemCode(hash, now)
    },
    async recordAssertionJti(clientId, jti, expiresAt) {
      return statements.recordJti.run(clientId, jti, expiresAt).changes === 1
    },
    async createUser(user) {
      statements.insertUser.run(userToRow(user))
    },
    async getUserById(id) {
      return one(statements.userById.get(id), userFromRow)
    },
    async getUserByUsername(username) {
      return one(statements.userByName.get(username), userFromRow)
    },
    async listUsers() {
      return (statements.listUsers.all() as Row[]).map(userFromRow)
    },
    async updateUser(user) {
      return statements.updateUser.run(userToRow(user)).changes === 1
    },
    async deleteUser(id) {
      return statements.deleteUser.run(id).changes === 1
    },
    async recordFailedLogin(userId, maxFailures, lockUntil, now) {
      const row = statements.failLogin.get({
        id: userId,
        max: maxFailures,
        lock_until: lockUntil,
        now,
      }) as Row | undefined
      return {
        failedLogins: Number(row?.failed_logins ?? 0),
        lockedUntil: nullableNumber(row?.locked_until),
      }
    },
    async recordSuccessfulLogin(userId, totpStep) {
      statements.succeedLogin.run(totpStep, userId)
    },
    async insertLoginSession(session: LoginSessionRecord) {
      statements.insertSession.run(
        session.hash,
        session.userId,
        session.authTime,
        json(session.amr),
        session.expiresAt,
      )
    },
    async getLoginSession(hash, now) {
      return one(statements.getSession.get(hash, now), (row) => ({
        hash: String(row.hash),
        userId: String(row.user_id),
        authTime: Number(row.auth_time),
        amr: parse<string[]>(row.amr),
        expiresAt: Number(row.expires_at),
      }))
    },
    async deleteLoginSession(hash) {
      statements.deleteSession.run(hash)
    },
    async getConsentedScopes(userId, clientId) {
      const row = statements.getConsent.get(userId, clientId) as Row | undefined
      return row === undefined ? [] : parse<string[]>(row.scopes)
    },
    async saveConsent(userId, clientId, scopes) {
      statements.saveConsent.run(userId, clientId, json(scopes))
    },
    async insertPushedRequest(request: PushedRequestRecord) {
      statements.insertPushed.run(
        request.hash,
        request.clientId,
        json(request.parameters),
        request.expiresAt,
      )
    },
    async getPushedRequest(hash, now) {
      return one(statements.getPushed.get(hash, now), pushedFromRow)
    },
    async updatePushedRequest(request) {
      return (
        statements.updatePushed.run(
          json(request.parameters),
          request.expiresAt,
          request.hash,
          request.clientId,
        ).changes === 1
      )
    },
    async takePushedRequest(hash, now) {
      return one(statements.takePushed.get(hash, now), pushedFromRow)
    },
    async appendAuditEvent(event: AuditEvent) {
      statements.insertAudit.run(
        event.id,
        Date.parse(event.time),
        event.type,
        event.clientId ?? null,
        event.subject ?? null,
        event.tokenId ?? null,
        event.requestId ?? null,
        json(event),
      )
    },
    async queryAuditEvents(query: AuditQuery) {
      const where: string[] = []
      const params: unknown[] = []
      const filters: [keyof AuditQuery, string][] = [
        ['type', 'type = ?'],
        ['clientId', 'client_id = ?'],
        ['subject', 'subject = ?'],
        ['tokenId', 'token_id = ?'],
        ['requestId', 'request_id = ?'],
        ['since', 'time >= ?'],
        ['until', 'time < ?'],
      ]
      for (const [field, clause] of filters) {
        const value = query[field]
        if (value === undefined) continue
        where.push(clause)
        params.push(value)
      }
      const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000)
      const sql = `SELECT event FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${limit}`
      return (db.prepare(sql).all(...params) as Row[]).map((row) => parse<AuditEvent>(row.event))
    },
    async sweepExpired(now) {
      return sweep(now)
    },
    async close() {
      if (db.open) db.close()
    },
  }
}

// Column lists are derived from one mapping per table, so the INSERT and UPDATE statements can
// never drift from the row shape.
const sampleClient: ClientRecord = {
  clientId: '',
  name: '',
  secretHash: null,
  tokenEndpointAuthMethod: 'none',
  jwks: null,
  redirectUris: [],
  postLogoutRedirectUris: [],
  grantTypes: [],
  scopes: [],
  audiences: [],
  tokenFormat: 'opaque',
  firstParty: false,
  requirePushedAuthorizationRequests: false,
  accessTokenTtlSeconds: null,
  createdAt: 0,
}
const sampleToken: TokenRecord = {
  hash: '',
  jti: '',
  kind: 'access_token',
  clientId: '',
  subject: '',
  scope: '',
  audience: [],
  claims: {},
  format: 'opaque',
  issuedAt: 0,
  expiresAt: 0,
  revokedAt: null,
  familyId: null,
  codeHash: null,
  usedAt: null,
  jwt: null,
}
const sampleUser: UserRecord = {
  id: '',
  username: '',
  passwordHash: '',
  encryptedTotpSecret: null,
  lastTotpStep: null,
  claims: {},
  failedLogins: 0,
  lockedUntil: null,
  disabled: false,
  createdAt: 0,
}
const sampleKey: SigningKeyRecord = {
  kid: '',
  alg: '',
  publicJwk: {},
  encryptedPrivateJwk: '',
  state: 'next',
  createdAt: 0,
  activatedAt: null,
  retiredAt: null,
  publishUntil: null,
}
