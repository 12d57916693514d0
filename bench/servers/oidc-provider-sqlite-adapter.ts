/**
 * An oidc-provider adapter on SQLite (better-sqlite3), so that the `authorization-server` suite
 * can also measure oidc-provider configured like Gatehouse's default: what it issues is kept in a
 * database file, not in process memory. oidc-provider ships only its MemoryAdapter (an LRU of
 * 1,000 entries, for development); adapters for real stores are left to its users, so this one
 * is written here, following the contract that MemoryAdapter implements: `upsert` with an
 * expiry, `find`, `findByUid`, `findByUserCode`, `consume`, `destroy` and `revokeByGrantId`.
 *
 * The database gets the settings Gatehouse's SQLite store gives its request thread (WAL,
 * `synchronous = NORMAL`, checkpoints left to SQLite at 10,000 pages). Gatehouse also checkpoints
 * from a worker thread and commits its writes in groups; this adapter commits each `upsert` on
 * its own, as a straightforward adapter would.
 */
import Database from 'better-sqlite3'
import type { Adapter, AdapterPayload } from 'oidc-provider'

/** Gatehouse's request-thread safety valve (store/sqlite.ts): checkpoints seldom block a write. */
const WAL_AUTOCHECKPOINT_PAGES = 10_000

export type AdapterClass = new (model: string) => Adapter

/** The adapter class to give `new Provider(issuer, { adapter })`, on the SQLite file `file`. */
export function sqliteAdapter(file: string): AdapterClass {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
  db.exec(`
    CREATE TABLE IF NOT EXISTS oidc_models (
      model TEXT NOT NULL,
      id TEXT NOT NULL,
      payload TEXT NOT NULL,
      grant_id TEXT,
      user_code TEXT,
      uid TEXT,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (model, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS oidc_models_grant_id ON oidc_models (grant_id)
      WHERE grant_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS oidc_models_user_code ON oidc_models (model, user_code)
      WHERE user_code IS NOT NULL;
    CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
  `)
  const statements = {
    upsert: db.prepare(
      `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload,
         grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid,
         expires_at = excluded.expires_at`,
    ),
    find: db
      .prepare('SELECT payload FROM oidc_models WHERE model = ? AND id = ? AND expires_at > ?')
      .pluck(),
    findByUid: db
      .prepare('SELECT payload FROM oidc_models WHERE model = ? AND uid = ? AND expires_at > ?')
      .pluck(),
    findByUserCode: db
      .prepare(
        'SELECT payload FROM oidc_models WHERE model = ? AND user_code = ? AND expires_at > ?',
      )
      .pluck(),
    consume: db.prepare(
      "UPDATE oidc_models SET payload = json_set(payload, '$.consumed', ?) WHERE model = ? AND id = ?",
    ),
    destroy: db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?'),
    revokeByGrantId: db.prepare('DELETE FROM oidc_models WHERE grant_id = ?'),
  }
  const now = () => Math.floor(Date.now() / 1000)
  const payloadOf = (text: unknown): AdapterPayload | undefined =>
    typeof text === 'string' ? (JSON.parse(text) as AdapterPayload) : undefined

  return class SqliteAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      statements.upsert.run(
        this.model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        now() + expiresIn,
      )
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return payloadOf(statements.find.get(this.model, id, now()))
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return payloadOf(statements.findByUid.get(this.model, uid, now()))
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return payloadOf(statements.findByUserCode.get(this.model, userCode, now()))
    }

    async consume(id: string): Promise<void> {
      statements.consume.run(now(), this.model, id)
    }

    async destroy(id: string): Promise<void> {
      statements.destroy.run(this.model, id)
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      statements.revokeByGrantId.run(grantId)
    }
  }
}
