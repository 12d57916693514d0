import type { AuditEvent } from '@gatehouse/audit'
import Database from 'better-sqlite3'
import { withBusyAsUnavailable } from './sqlite-busy.js'
import { type SqliteCheckpointer, startSqliteCheckpointer } from './sqlite-checkpointer.js'
import { createSqliteClientCache } from './sqlite-client-cache.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'
import {
  clientFromRow,
  clientToRow,
  codeFromRow,
  columns,
  json,
  keyFromRow,
  keyToRow,
  nullableNumber,
  nullableString,
  parse,
  pushedFromRow,
  type Row,
  sampleClient,
  sampleKey,
  sampleToken,
  sampleUser,
  tokenFromRow,
  tokenToRow,
  userFromRow,
  userToRow,
} from './sqlite-rows.js'
import { createWriteBatch } from './sqlite-write-batch.js'
import type {
  AuditQuery,
  AuthorizationServerStore,
  LoginSessionRecord,
  PushedRequestRecord,
  RedeemCodeResult,
  RotateRefreshResult,
  SigningKeyRecord,
  SweepResult,
  TokenRecord,
} from './store.js'

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for tests. */
  readonly path: string
  /** How long an authorization code row is kept after it expired, so a late replay is still
   * recognised and revokes what the code issued. Default: 24 hours. */
  readonly codeRetentionMs?: number
  /** Where a failure of the background checkpoint thread is reported. */
  readonly onError?: (error: unknown) => void
  /**
   * How long a statement waits for another connection's lock on the file (another process, the
   * CLI) before the request fails with 503 temporarily_unavailable. Default: 5,000 ms.
   */
  readonly busyTimeoutMs?: number
}

// The request thread's own auto-checkpoint (pages): a safety valve that bounds the WAL file
// (~40 MB) when the background checkpointer cannot keep up; see sqlite-checkpointer.ts.
const WAL_SAFETY_CHECKPOINT_PAGES = 10_000
const WAL_DEFAULT_CHECKPOINT_PAGES = 1_000
const DEFAULT_BUSY_TIMEOUT_MS = 5_000

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
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError('busyTimeoutMs must be a whole number of milliseconds ≥ 0')
  }
  const db = new Database(options.path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)
  migrateSqlite(db)
  let checkpointer: SqliteCheckpointer | null = null
  if (db.pragma('journal_mode', { simple: true }) === 'wal') {
    db.pragma(`wal_autocheckpoint = ${WAL_SAFETY_CHECKPOINT_PAGES}`)
    db.pragma('journal_size_limit = 67108864')
    checkpointer = startSqliteCheckpointer(options.path, {
      onError(error) {
        // Back to SQLite's default: checkpoints run in the request thread again.
        if (db.open) db.pragma(`wal_autocheckpoint = ${WAL_DEFAULT_CHECKPOINT_PAGES}`)
        options.onError?.(error)
      },
    })
  }
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
    // A token issued from a code that was replayed meanwhile is born revoked: the replay marks
    // the code, and the insert reads the mark (both on this one connection, so no interleaving).
    insertToken: db.prepare(
      `INSERT INTO tokens (${tokenCols.names}) VALUES (${tokenCols.values.replace(
        '@revoked_at',
        'COALESCE(@revoked_at, (SELECT replayed_at FROM authorization_codes WHERE hash = @code_hash))',
      )})`,
    ),
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
    markReplayed: db.prepare(
      'UPDATE authorization_codes SET replayed_at = COALESCE(replayed_at, ?) WHERE hash = ? AND used_at IS NOT NULL RETURNING *',
    ),
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

  const batch = createWriteBatch(db)
  const clientCache = createSqliteClientCache(db)

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
    const replayed = statements.markReplayed.get(now, hash) as Row | undefined
    if (replayed === undefined) return { outcome: 'not_found' }
    return { outcome: 'replayed', code: codeFromRow(replayed) }
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

  return withBusyAsUnavailable({
    async createClient(client) {
      clientCache.forget(client.clientId)
      statements.insertClient.run(clientToRow(client))
    },
    async getClient(clientId) {
      return clientCache.get(clientId, () => one(statements.getClient.get(clientId), clientFromRow))
    },
    async listClients() {
      return (statements.listClients.all() as Row[]).map(clientFromRow)
    },
    async updateClient(client) {
      clientCache.forget(client.clientId)
      return statements.updateClient.run(clientToRow(client)).changes === 1
    },
    async deleteClient(clientId) {
      clientCache.forget(clientId)
      return statements.deleteClient.run(clientId).changes === 1
    },
    async listSigningKeys() {
      return (statements.listKeys.all() as Row[]).map(keyFromRow)
    },
    async saveSigningKeys(change) {
      saveKeys(change.created, change.updated)
    },
    async insertToken(token) {
      const row = tokenToRow(token)
      await batch.run(() => statements.insertToken.run(row))
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
      const values = [
        event.id,
        Date.parse(event.time),
        event.type,
        event.clientId ?? null,
        event.subject ?? null,
        event.tokenId ?? null,
        event.requestId ?? null,
        json(event),
      ]
      await batch.run(() => statements.insertAudit.run(...values))
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
      batch.flush()
      await checkpointer?.stop()
      if (db.open) db.close()
    },
  })
}
