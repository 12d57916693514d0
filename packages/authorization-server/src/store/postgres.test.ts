import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  describeStoreContract,
  sampleCode,
  sampleToken,
  T0,
} from '../test-support/store-contract.js'
import { ConcurrentSigningKeyChange, createPostgresStore } from './postgres.js'
import { migratePostgres, POSTGRES_MIGRATIONS } from './postgres-migrations.js'
import type { AuthorizationServerStore, SigningKeyRecord, SigningKeyState } from './store.js'

/**
 * Runs against the real PostgreSQL named by GATEHOUSE_TEST_POSTGRES_URL. Each store lives in its
 * own schema, dropped afterwards, so parallel runs never collide. Under CI the server must be
 * there: its absence fails the suite instead of skipping it.
 */
const url = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const reachable = await probe(url)
if (!reachable.ok && process.env.CI === 'true') {
  throw new Error(
    `PostgreSQL is required in CI but ${redact(url)} cannot be reached (${reachable.reason}); set GATEHOUSE_TEST_POSTGRES_URL`,
  )
}
if (!reachable.ok) {
  process.stderr.write(
    `skipping the PostgreSQL store tests: ${redact(url)} cannot be reached (${reachable.reason}); set GATEHOUSE_TEST_POSTGRES_URL\n`,
  )
}

async function probe(target: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: 2_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  } finally {
    await client.end().catch(() => undefined)
  }
}

function redact(target: string): string {
  return target.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')
}

const freshSchema = (): string => `gh_test_${randomBytes(6).toString('hex')}`

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)
  } finally {
    await client.end()
  }
}

/** A store in a schema of its own; closing it drops the schema. */
async function openIsolated(schema = freshSchema()): Promise<AuthorizationServerStore> {
  const store = await createPostgresStore({ url, schema, maxConnections: 4 })
  return {
    ...store,
    async close() {
      await store.close()
      await dropSchema(schema)
    },
  }
}

describe.skipIf(!reachable.ok)('postgres store', () => {
  describeStoreContract('postgres', () => openIsolated())

  describe('migrations', () => {
    const schema = freshSchema()
    let pool: pg.Pool
    beforeAll(() => {
      pool = new pg.Pool({ connectionString: url, max: 4 })
    })
    afterAll(async () => {
      await pool.end()
      await dropSchema(schema)
    })

    it('applies each migration exactly once when several instances start together', async () => {
      const runs = await Promise.all([1, 2, 3].map(() => migratePostgres(pool, { schema })))
      // One caller applied everything; the others waited on the advisory lock and found nothing to do.
      expect(runs.flat().sort()).toEqual(POSTGRES_MIGRATIONS.map((migration) => migration.version))
      expect(runs.filter((ran) => ran.length === 0)).toHaveLength(2)
      const recorded = await pool.query(
        `SELECT version FROM ${pg.escapeIdentifier(schema)}.schema_migrations`,
      )
      expect(recorded.rowCount).toBe(POSTGRES_MIGRATIONS.length)
      await expect(migratePostgres(pool, { schema })).resolves.toEqual([])
    })

    it('refuses a schema name that is not a plain identifier', async () => {
      await expect(migratePostgres(pool, { schema: 'public; DROP TABLE x' })).rejects.toThrow(
        TypeError,
      )
      await expect(createPostgresStore({ url, schema: 'Bad"Name' })).rejects.toThrow(TypeError)
    })
  })

  describe('two instances on one database', () => {
    const schema = freshSchema()
    let a: AuthorizationServerStore
    let b: AuthorizationServerStore
    beforeAll(async () => {
      // Two pools: two authorization server instances sharing the database.
      a = await createPostgresStore({ url, schema, maxConnections: 4 })
      b = await createPostgresStore({ url, schema, maxConnections: 4 })
    })
    afterAll(async () => {
      await a.close()
      await b.close()
      await dropSchema(schema)
    })

    it('lets exactly one of many concurrent uses of a refresh token rotate it, and the reuse revokes the family', async () => {
      for (let round = 0; round < 5; round++) {
        const family = `family-${round}`
        await a.insertToken(
          sampleToken({
            hash: `${family}-r0`,
            jti: `${family}-r0`,
            kind: 'refresh_token',
            familyId: family,
          }),
        )
        const attempts = Array.from({ length: 8 }, (_, index) => {
          const store = index % 2 === 0 ? a : b
          const successor = sampleToken({
            hash: `${family}-next-${index}`,
            jti: `${family}-next-${index}`,
            kind: 'refresh_token',
            familyId: family,
          })
          return store.rotateRefreshToken(`${family}-r0`, [successor], T0 + 1)
        })
        const results = await Promise.all(attempts)
        const winners = results.filter((result) => result.outcome === 'rotated')
        expect(winners).toHaveLength(1)
        expect(results.filter((result) => result.outcome === 'reused')).toHaveLength(7)
        // Only the winner's successor exists.
        const successors = await Promise.all(
          Array.from({ length: 8 }, (_, index) => a.getTokenByHash(`${family}-next-${index}`)),
        )
        expect(successors.filter((token) => token !== null)).toHaveLength(1)
        // The reuse is detected: the family (old token and the winner's successor) is revoked.
        const revoked = await b.revokeTokenFamily(family, T0 + 2)
        expect(revoked).toHaveLength(2)
        const live = successors.find((token) => token !== null)
        expect((await a.getTokenByHash(live?.hash ?? ''))?.revokedAt).toBe(T0 + 2)
      }
    })

    it('redeems a code once across instances, and a token issued after a replay is born revoked', async () => {
      const code = sampleCode({ hash: 'code-race' })
      await a.insertAuthorizationCode(code)
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          (index % 2 === 0 ? a : b).redeemAuthorizationCode('code-race', T0 + 1),
        ),
      )
      expect(outcomes.filter((result) => result.outcome === 'redeemed')).toHaveLength(1)
      expect(outcomes.filter((result) => result.outcome === 'replayed')).toHaveLength(5)
      // The first redemption's token lands after the replay was seen: it must not be live.
      await a.insertToken(sampleToken({ hash: 'late', jti: 'late', codeHash: 'code-race' }))
      expect((await b.getTokenByHash('late'))?.revokedAt).toBe(T0 + 1)
      // Tokens from an unreplayed code are inserted live.
      await a.insertToken(sampleToken({ hash: 'plain', jti: 'plain', codeHash: 'other-code' }))
      expect((await b.getTokenByHash('plain'))?.revokedAt).toBeNull()
    })

    it('creates the first signing keys once when two instances start together, and applies one of two racing rotations', async () => {
      const key = (kid: string, state: SigningKeyState): SigningKeyRecord => ({
        kid,
        alg: 'ES256',
        publicJwk: { kid },
        encryptedPrivateJwk: 'sealed',
        state,
        createdAt: T0,
        activatedAt: state === 'active' ? T0 : null,
        retiredAt: null,
        publishUntil: null,
      })
      await Promise.all([
        a.saveSigningKeys({
          created: [key('a-active', 'active'), key('a-next', 'next')],
          updated: [],
        }),
        b.saveSigningKeys({
          created: [key('b-active', 'active'), key('b-next', 'next')],
          updated: [],
        }),
      ])
      const started = await a.listSigningKeys()
      expect(started.map((k) => k.state).sort()).toEqual(['active', 'next'])

      // Both instances decide the rotation is due from the same view of the keys.
      const active = started.find((k) => k.state === 'active') ?? key('', 'active')
      const next = started.find((k) => k.state === 'next') ?? key('', 'next')
      const rotation = (published: string) => ({
        created: [key(published, 'next')],
        updated: [
          { ...next, state: 'active' as const, activatedAt: T0 + 1 },
          { ...active, state: 'retired' as const, retiredAt: T0 + 1, publishUntil: T0 + 10 },
        ],
      })
      const outcomes = await Promise.allSettled([
        a.saveSigningKeys(rotation('a-published')),
        b.saveSigningKeys(rotation('b-published')),
      ])
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1)
      const refused = outcomes.find((outcome) => outcome.status === 'rejected')
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(
        ConcurrentSigningKeyChange,
      )
      const rotated = await b.listSigningKeys()
      expect(rotated.map((k) => k.state).sort()).toEqual(['active', 'next', 'retired'])
      expect(rotated.find((k) => k.state === 'active')?.kid).toBe(next.kid)
    })

    it('counts concurrent failed logins from both instances without losing one', async () => {
      await a.createUser({
        id: 'u-race',
        username: 'race',
        passwordHash: 'x',
        encryptedTotpSecret: null,
        lastTotpStep: null,
        claims: {},
        failedLogins: 0,
        lockedUntil: null,
        disabled: false,
        createdAt: T0,
      })
      await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          (index % 2 === 0 ? a : b).recordFailedLogin('u-race', 100, T0 + 1000, T0),
        ),
      )
      expect((await a.getUserById('u-race'))?.failedLogins).toBe(10)
    })
  })

  describe('when the connection to PostgreSQL is cut', () => {
    it('fails operations instead of hanging while it is cut, and recovers without a restart', async () => {
      const target = new URL(url)
      const proxy = await startCuttableProxy(target.hostname, Number(target.port || 5432))
      const proxied = new URL(url)
      proxied.host = `127.0.0.1:${proxy.port}`
      const schema = freshSchema()
      const poolErrors: Error[] = []
      const store = await createPostgresStore({
        url: proxied.toString(),
        schema,
        statementTimeoutMs: 1_000,
        onPoolError: (error) => poolErrors.push(error),
      })
      try {
        await store.insertToken(sampleToken())
        await proxy.cut()
        await expect(store.getTokenByHash('h1')).rejects.toThrow()
        await expect(store.revokeToken('h1', T0 + 1)).rejects.toThrow()
        proxy.resume()
        // The pool opens new connections on its own: no restart.
        await eventually(
          async () => (await store.getTokenByHash('h1').catch(() => null))?.jti === 'jti-1',
          10_000,
        )
        expect((await store.revokeToken('h1', T0 + 2))?.jti).toBe('jti-1')
      } finally {
        await store.close()
        await proxy.close()
        await dropSchema(schema)
      }
    })
  })
})

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * A TCP relay to the real PostgreSQL that the test can cut (every connection reset, the port
 * closed) and resume on the same port: a network partition without stopping the shared server.
 */
async function startCuttableProxy(host: string, port: number) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => undefined)
    }
    client.pipe(upstream).pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port: listening } = server.address() as net.AddressInfo
  return {
    port: listening,
    async cut() {
      const closed = once(server, 'close')
      server.close()
      for (const socket of sockets) socket.destroy()
      await closed
    },
    resume() {
      server.listen(listening, '127.0.0.1')
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      if (server.listening) {
        const closed = once(server, 'close')
        server.close()
        await closed
      }
    },
  }
}
