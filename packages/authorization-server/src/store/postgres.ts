import type { AuditEvent } from '@gatehouse/audit'
import pg from 'pg'
import { storeUnavailable } from '../errors.js'
import { migratePostgres, quoteSchema } from './postgres-migrations.js'
import {
  clientFromRow,
  clientValues,
  codeFromRow,
  codeValues,
  EMPTY_CLIENT,
  EMPTY_CODE,
  EMPTY_KEY,
  EMPTY_TOKEN,
  EMPTY_USER,
  insertSql,
  json,
  keyFromRow,
  keyValues,
  nullableNumber,
  pushedFromRow,
  type Row,
  sessionFromRow,
  tokenFromRow,
  tokenValues,
  updateSql,
  userFromRow,
  userValues,
} from './postgres-rows.js'
import type {
  AuditQuery,
  AuthorizationServerStore,
  SigningKeyState,
  SweepResult,
  TokenRecord,
} from './store.js'

export interface PostgresStoreOptions {
  /** A connection URL (`postgres://user@host:5432/db`); the password belongs in the environment. */
  readonly url?: string
  /** An existing pool; the store then leaves it open on `close()`. */
  readonly pool?: pg.Pool
  /** The schema holding the tables (created by the migrations). Default: `public`. */
  readonly schema?: string
  /** Run pending migrations before answering (default true; `gatehouse migrate` runs them too). */
  readonly migrate?: boolean
  /** Pool size when the store builds the pool. Default 10. */
  readonly maxConnections?: number
  /** Server-side statement timeout and client-side connect timeout. Default 5000 ms. */
  readonly statementTimeoutMs?: number
  /** How long an authorization code row is kept after it expired (late replays). Default 24 h. */
  readonly codeRetentionMs?: number
  /** Errors of idle pooled connections (a restarted server); without a handler they would crash the process. */
  readonly onPoolError?: (error: Error) => void
}

/**
 * The distributed store: PostgreSQL through a `pg` pool. Grants that touch several rows are
 * atomic across instances:
 *  - code redemption is one conditional UPDATE (`used_at IS NULL`); a replay marks the code
 *    `replayed_at` under the same row lock, and a token still being issued from that code is
 *    inserted already revoked, so a replay racing the first redemption cannot leave a live token;
 *  - refresh rotation marks the old token used with a conditional UPDATE and inserts its
 *    successors in the same transaction: a concurrent second use waits for the row lock, then sees
 *    `used_at` set and answers `reused` — by then the successors are committed, so the family
 *    revocation that follows reaches them.
 */
export async function createPostgresStore(
  options: PostgresStoreOptions,
): Promise<AuthorizationServerStore> {
  const schemaName = options.schema ?? 'public'
  const s = quoteSchema(schemaName)
  const timeoutMs = options.statementTimeoutMs ?? 5_000
  const ownPool = options.pool === undefined
  let pool: pg.Pool
  if (options.pool !== undefined) pool = options.pool
  else if (options.url !== undefined) {
    pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      statement_timeout: timeoutMs,
      // Client-side bound too, for a connection that went silent (no reset from the network).
      query_timeout: timeoutMs + 1_000,
      connectionTimeoutMillis: timeoutMs,
      idleTimeoutMillis: 30_000,
    })
  } else throw new TypeError('createPostgresStore needs a url or a pool')
  if (ownPool) pool.on('error', options.onPoolError ?? (() => undefined))
  try {
    if (options.migrate ?? true) await migratePostgres(pool, { schema: schemaName })
  } catch (error) {
    if (ownPool) await pool.end()
    throw error
  }
  const codeRetentionMs = options.codeRetentionMs ?? 24 * 60 * 60 * 1000

  const tokenColumns = tokenValues(EMPTY_TOKEN)
  const sql = {
    insertClient: insertSql(`${s}.clients`, clientValues(EMPTY_CLIENT)),
    updateClient: updateSql(`${s}.clients`, clientValues(EMPTY_CLIENT)),
    insertKey: insertSql(`${s}.signing_keys`, keyValues(EMPTY_KEY)),
    updateKey: updateSql(`${s}.signing_keys`, keyValues(EMPTY_KEY)),
    insertUser: insertSql(`${s}.users`, userValues(EMPTY_USER)),
    updateUser: updateSql(`${s}.users`, userValues(EMPTY_USER)),
    insertCode: insertSql(`${s}.authorization_codes`, codeValues(EMPTY_CODE)),
    // A token issued from a code that was replayed meanwhile is born revoked (see above).
    insertToken: `INSERT INTO ${s}.tokens (${tokenColumns.names.join(', ')}) VALUES (${tokenColumns.names
      .map((name, index) =>
        name === 'revoked_at'
          ? `COALESCE($${index + 1}::bigint, (SELECT replayed_at FROM ${s}.authorization_codes WHERE hash = $${tokenColumns.names.indexOf('code_hash') + 1} FOR SHARE))`
          : `$${index + 1}`,
      )
      .join(', ')})`,
  }

  type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>
  /** A named (prepared once per connection) statement. */
  async function run(name: string, text: string, values: readonly unknown[] = [], on?: Queryable) {
    try {
      return await (on ?? pool).query<Row>({
        name: `gh.${schemaName}.${name}`,
        text,
        values: [...values],
      })
    } catch (error) {
      throw asUnavailable(error)
    }
  }
  async function first<T>(
    name: string,
    text: string,
    values: readonly unknown[],
    map: (row: Row) => T,
  ): Promise<T | null> {
    const row = (await run(name, text, values)).rows[0]
    return row === undefined ? null : map(row)
  }
  async function all<T>(
    name: string,
    text: string,
    values: readonly unknown[],
    map: (row: Row) => T,
  ) {
    return (await run(name, text, values)).rows.map(map)
  }
  async function changed(name: string, text: string, values: readonly unknown[]): Promise<boolean> {
    return ((await run(name, text, values)).rowCount ?? 0) > 0
  }
  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw asUnavailable(error)
    }
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw asUnavailable(error)
    } finally {
      client.release()
    }
  }
  const insertToken = (token: TokenRecord, on?: Queryable) =>
    run('insertToken', sql.insertToken, tokenValues(token).values, on)

  return {
    async createClient(client) {
      await run('insertClient', sql.insertClient, clientValues(client).values)
    },
    getClient: (clientId) =>
      first(
        'getClient',
        `SELECT * FROM ${s}.clients WHERE client_id = $1`,
        [clientId],
        clientFromRow,
      ),
    listClients: () =>
      all(
        'listClients',
        `SELECT * FROM ${s}.clients ORDER BY created_at, client_id`,
        [],
        clientFromRow,
      ),
    updateClient: (client) =>
      changed('updateClient', sql.updateClient, clientValues(client).values),
    deleteClient: (clientId) =>
      changed('deleteClient', `DELETE FROM ${s}.clients WHERE client_id = $1`, [clientId]),

    listSigningKeys: () =>
      all('listKeys', `SELECT * FROM ${s}.signing_keys ORDER BY created_at, kid`, [], keyFromRow),
    async saveSigningKeys(change) {
      // Several instances may start, or rotate on schedule, at the same moment: changes are
      // serialised by an advisory lock and applied only from the states they were computed from.
      await transaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `gatehouse.signing-keys.${schemaName}`,
        ])
        const current = new Map(
          (
            await run(
              'listKeys',
              `SELECT * FROM ${s}.signing_keys ORDER BY created_at, kid`,
              [],
              client,
            )
          ).rows
            .map(keyFromRow)
            .map((key) => [key.kid, key.state]),
        )
        for (const key of change.updated) {
          if (!isKeyTransition(current.get(key.kid), key.state)) {
            throw new ConcurrentSigningKeyChange(key.kid)
          }
          await run('updateKey', sql.updateKey, keyValues(key).values, client)
          current.set(key.kid, key.state)
        }
        for (const key of change.created) {
          // Ensuring keys at start is idempotent: another instance already created this one.
          const states = [...current.values()]
          if (change.updated.length === 0 && key.state !== 'retired' && states.includes(key.state))
            continue
          await run('insertKey', sql.insertKey, keyValues(key).values, client)
          current.set(key.kid, key.state)
        }
      })
    },

    async insertToken(token) {
      await insertToken(token)
    },
    getTokenByHash: (hash) =>
      first('tokenByHash', `SELECT * FROM ${s}.tokens WHERE hash = $1`, [hash], tokenFromRow),
    getTokenByJti: (jti) =>
      first('tokenByJti', `SELECT * FROM ${s}.tokens WHERE jti = $1`, [jti], tokenFromRow),
    async setTokenJwt(hash, jwt) {
      // First writer wins; everyone reads back the stored form.
      const row = await first(
        'setJwt',
        `UPDATE ${s}.tokens SET jwt = COALESCE(jwt, $2) WHERE hash = $1 RETURNING jwt`,
        [hash, jwt],
        (r) => r.jwt,
      )
      return typeof row === 'string' ? row : jwt
    },
    revokeToken: (hash, now) =>
      first(
        'revokeToken',
        `UPDATE ${s}.tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL RETURNING *`,
        [now, hash],
        tokenFromRow,
      ),
    revokeTokenFamily: (familyId, now) =>
      all(
        'revokeFamily',
        `UPDATE ${s}.tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL RETURNING *`,
        [now, familyId],
        tokenFromRow,
      ),
    revokeTokensFromCode: (codeHash, now) =>
      all(
        'revokeFromCode',
        `UPDATE ${s}.tokens SET revoked_at = $1 WHERE code_hash = $2 AND revoked_at IS NULL RETURNING *`,
        [now, codeHash],
        tokenFromRow,
      ),
    rotateRefreshToken: (hash, successors, now) =>
      transaction(async (client) => {
        const used = (
          await run(
            'markUsed',
            `UPDATE ${s}.tokens SET used_at = $1 WHERE hash = $2 AND kind = 'refresh_token' AND used_at IS NULL RETURNING *`,
            [now, hash],
            client,
          )
        ).rows[0]
        if (used !== undefined) {
          for (const token of successors) await insertToken(token, client)
          return { outcome: 'rotated', previous: tokenFromRow(used) } as const
        }
        const existing = (
          await run('tokenByHash', `SELECT * FROM ${s}.tokens WHERE hash = $1`, [hash], client)
        ).rows[0]
        if (existing === undefined || existing.kind !== 'refresh_token')
          return { outcome: 'not_found' } as const
        return { outcome: 'reused', previous: tokenFromRow(existing) } as const
      }),

    async insertAuthorizationCode(code) {
      await run('insertCode', sql.insertCode, codeValues({ ...code, usedAt: null }).values)
    },
    getAuthorizationCode: (hash) =>
      first(
        'getCode',
        `SELECT * FROM ${s}.authorization_codes WHERE hash = $1`,
        [hash],
        codeFromRow,
      ),
    async redeemAuthorizationCode(hash, now) {
      const redeemed = await first(
        'redeemCode',
        `UPDATE ${s}.authorization_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL RETURNING *`,
        [now, hash],
        codeFromRow,
      )
      if (redeemed !== null) return { outcome: 'redeemed', code: redeemed }
      const replayed = await first(
        'markReplayed',
        `UPDATE ${s}.authorization_codes SET replayed_at = COALESCE(replayed_at, $1) WHERE hash = $2 AND used_at IS NOT NULL RETURNING *`,
        [now, hash],
        codeFromRow,
      )
      return replayed === null ? { outcome: 'not_found' } : { outcome: 'replayed', code: replayed }
    },

    recordAssertionJti: (clientId, jti, expiresAt) =>
      changed(
        'recordJti',
        `INSERT INTO ${s}.assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [clientId, jti, expiresAt],
      ),

    async createUser(user) {
      await run('insertUser', sql.insertUser, userValues(user).values)
    },
    getUserById: (id) =>
      first('userById', `SELECT * FROM ${s}.users WHERE id = $1`, [id], userFromRow),
    getUserByUsername: (username) =>
      first('userByName', `SELECT * FROM ${s}.users WHERE username = $1`, [username], userFromRow),
    listUsers: () =>
      all('listUsers', `SELECT * FROM ${s}.users ORDER BY created_at, username`, [], userFromRow),
    updateUser: (user) => changed('updateUser', sql.updateUser, userValues(user).values),
    deleteUser: (id) => changed('deleteUser', `DELETE FROM ${s}.users WHERE id = $1`, [id]),
    async recordFailedLogin(userId, maxFailures, lockUntil, now) {
      // One statement: concurrent failures from several instances each count (row lock).
      const row = await first(
        'failLogin',
        `UPDATE ${s}.users SET
           failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END,
           locked_until = CASE
             WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL
             WHEN failed_logins + 1 >= $3 THEN $4::bigint
             ELSE locked_until END
         WHERE id = $1 RETURNING failed_logins, locked_until`,
        [userId, now, maxFailures, lockUntil],
        (r) => r,
      )
      return {
        failedLogins: Number(row?.failed_logins ?? 0),
        lockedUntil: nullableNumber(row?.locked_until),
      }
    },
    async recordSuccessfulLogin(userId, totpStep) {
      await run(
        'succeedLogin',
        `UPDATE ${s}.users SET failed_logins = 0, locked_until = NULL, last_totp_step = COALESCE($2::bigint, last_totp_step) WHERE id = $1`,
        [userId, totpStep],
      )
    },

    async insertLoginSession(session) {
      await run(
        'insertSession',
        `INSERT INTO ${s}.login_sessions (hash, user_id, auth_time, amr, expires_at) VALUES ($1, $2, $3, $4, $5)`,
        [session.hash, session.userId, session.authTime, json(session.amr), session.expiresAt],
      )
    },
    getLoginSession: (hash, now) =>
      first(
        'getSession',
        `SELECT * FROM ${s}.login_sessions WHERE hash = $1 AND expires_at > $2`,
        [hash, now],
        sessionFromRow,
      ),
    async deleteLoginSession(hash) {
      await run('deleteSession', `DELETE FROM ${s}.login_sessions WHERE hash = $1`, [hash])
    },
    async getConsentedScopes(userId, clientId) {
      const scopes = await first(
        'getConsent',
        `SELECT scopes FROM ${s}.consents WHERE user_id = $1 AND client_id = $2`,
        [userId, clientId],
        (row) => row.scopes as string[],
      )
      return scopes ?? []
    },
    async saveConsent(userId, clientId, scopes) {
      await run(
        'saveConsent',
        `INSERT INTO ${s}.consents (user_id, client_id, scopes) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes`,
        [userId, clientId, json(scopes)],
      )
    },

    async insertPushedRequest(request) {
      await run(
        'insertPushed',
        `INSERT INTO ${s}.pushed_requests (hash, client_id, parameters, expires_at) VALUES ($1, $2, $3, $4)`,
        [request.hash, request.clientId, json(request.parameters), request.expiresAt],
      )
    },
    getPushedRequest: (hash, now) =>
      first(
        'getPushed',
        `SELECT * FROM ${s}.pushed_requests WHERE hash = $1 AND expires_at > $2`,
        [hash, now],
        pushedFromRow,
      ),
    updatePushedRequest: (request) =>
      changed(
        'updatePushed',
        `UPDATE ${s}.pushed_requests SET parameters = $1, expires_at = $2 WHERE hash = $3 AND client_id = $4`,
        [json(request.parameters), request.expiresAt, request.hash, request.clientId],
      ),
    takePushedRequest: (hash, now) =>
      first(
        'takePushed',
        `DELETE FROM ${s}.pushed_requests WHERE hash = $1 AND expires_at > $2 RETURNING *`,
        [hash, now],
        pushedFromRow,
      ),

    async appendAuditEvent(event: AuditEvent) {
      await run(
        'insertAudit',
        `INSERT INTO ${s}.audit_events (id, time, type, client_id, subject, token_id, request_id, event)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          event.id,
          Date.parse(event.time),
          event.type,
          event.clientId ?? null,
          event.subject ?? null,
          event.tokenId ?? null,
          event.requestId ?? null,
          json(event),
        ],
      )
    },
    async queryAuditEvents(query: AuditQuery) {
      const filters: [keyof AuditQuery, string][] = [
        ['type', 'type ='],
        ['clientId', 'client_id ='],
        ['subject', 'subject ='],
        ['tokenId', 'token_id ='],
        ['requestId', 'request_id ='],
        ['since', 'time >='],
        ['until', 'time <'],
      ]
      const where: string[] = []
      const params: unknown[] = []
      for (const [field, clause] of filters) {
        const value = query[field]
        if (value === undefined) continue
        params.push(value)
        where.push(`${clause} $${params.length}`)
      }
      params.push(Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000))
      const result = await pool.query<Row>(
        `SELECT event FROM ${s}.audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
        params,
      )
      return result.rows.map((row) => row.event as AuditEvent)
    },

    sweepExpired: (now) =>
      transaction(async (client): Promise<SweepResult> => {
        const count = async (text: string, at: number) =>
          (await client.query(text, [at])).rowCount ?? 0
        return {
          tokens: await count(`DELETE FROM ${s}.tokens WHERE expires_at <= $1`, now),
          codes: await count(
            `DELETE FROM ${s}.authorization_codes WHERE expires_at <= $1`,
            now - codeRetentionMs,
          ),
          assertions: await count(`DELETE FROM ${s}.assertion_jtis WHERE expires_at <= $1`, now),
          sessions: await count(`DELETE FROM ${s}.login_sessions WHERE expires_at <= $1`, now),
          pushedRequests: await count(
            `DELETE FROM ${s}.pushed_requests WHERE expires_at <= $1`,
            now,
          ),
          keys: await count(
            `DELETE FROM ${s}.signing_keys WHERE state = 'retired' AND publish_until IS NOT NULL AND publish_until <= $1`,
            now,
          ),
        }
      }),

    async close() {
      if (ownPool && !pool.ended) await pool.end()
    },
  }
}

/** A signing-key change computed from a state that another instance changed meanwhile. */
export class ConcurrentSigningKeyChange extends Error {
  constructor(readonly kid: string) {
    super(
      `signing key ${kid} was changed by another instance meanwhile; this change was not applied`,
    )
    this.name = 'ConcurrentSigningKeyChange'
  }
}

/** The state changes a rotation makes: next → active → retired (a retired key may be updated). */
function isKeyTransition(from: SigningKeyState | undefined, to: SigningKeyState): boolean {
  switch (to) {
    case 'active':
      return from === 'next'
    case 'retired':
      return from === 'active' || from === 'next' || from === 'retired'
    case 'next':
      return from === 'next'
  }
}

/**
 * A failure of the database rather than of the request — it cannot be reached, it dropped the
 * connection, it is shutting down or starting, it has no connection left, or it did not answer
 * within the statement timeout — becomes `TemporarilyUnavailable` (503 with Retry-After), so
 * clients retry later instead of discarding a good grant. Anything else (a constraint, a bug)
 * stays what it is. The original error is kept as `cause` for the logs, never shown to a client.
 */
export function asUnavailable(error: unknown): unknown {
  return isUnavailable(error) ? storeUnavailable(error) : error
}

/** Network errors from node, SQLSTATE classes 08 and 57P, 53300 and 57014, and pg's own. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '53300', // too_many_connections
  '57014', // query_canceled: the statement timeout
])
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true
  }
  return UNAVAILABLE_MESSAGES.test(error.message)
}
