import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'

/**
 * The real PostgreSQL and Redis the `distributed` suite runs on. Each run gets a schema and a
 * key prefix of its own, so it never touches anyone else's data, and removes them afterwards.
 * An unreachable service stops the suite with an error naming it (never a skipped comparison).
 */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
const CONNECT_TIMEOUT_MS = 5_000

/** A URL for logs and errors: never its password. */
export function describeUrl(raw: string): string {
  try {
    const url = new URL(raw)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return '(not a URL)'
  }
}

export interface BenchSchema {
  readonly url: string
  readonly schema: string
  /** Drops the schema and every table in it. */
  drop(): Promise<void>
}

/** Creates `gatehouse_bench_<random>` in the database at `url` (the store migrates into it). */
export async function createBenchSchema(url: string): Promise<BenchSchema> {
  const schema = `gatehouse_bench_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  try {
    await client.connect()
    // The name is ours and matches [a-z0-9_]: no quoting issue.
    await client.query(`CREATE SCHEMA ${schema}`)
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${describeUrl(url)} is unreachable or refused the benchmark schema (set GATEHOUSE_BENCH_POSTGRES_URL): ${messageOf(error)}`,
      { cause: error },
    )
  } finally {
    await client.end().catch(() => undefined)
  }
  return {
    url,
    schema,
    async drop() {
      const admin = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      })
      await admin.connect()
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      } finally {
        await admin.end()
      }
    },
  }
}

export interface BenchKeyPrefix {
  readonly url: string
  readonly keyPrefix: string
  /** How many keys exist under the prefix (SCAN, not KEYS). */
  countKeys(): Promise<number>
  /**
   * Lua script calls (EVALSHA and EVAL) this Redis has served since it started, from INFO
   * commandstats: the difference over the rounds shows the rate-limit buckets were taken there.
   */
  scriptCalls(): Promise<number>
  /** Deletes every key under the prefix and closes the connection. */
  remove(): Promise<number>
}

/** Checks that Redis answers PING and reserves `gatehouse-bench-<random>:` for this run. */
export async function createBenchKeyPrefix(url: string): Promise<BenchKeyPrefix> {
  const keyPrefix = `gatehouse-bench-${randomBytes(6).toString('hex')}:`
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    const pong = await redis.ping()
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`)
  } catch (error) {
    redis.disconnect()
    throw new Error(
      `Redis at ${describeUrl(url)} is unreachable (set GATEHOUSE_BENCH_REDIS_URL): ${messageOf(error)}`,
      { cause: error },
    )
  }
  const keys = async (): Promise<string[]> => {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000)
      found.push(...batch)
      cursor = next
    } while (cursor !== '0')
    return found
  }
  return {
    url,
    keyPrefix,
    countKeys: async () => (await keys()).length,
    async scriptCalls() {
      const stats = await redis.info('commandstats')
      return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)]
        .map((match) => Number(match[1]))
        .reduce((sum, calls) => sum + calls, 0)
    },
    async remove() {
      try {
        const found = await keys()
        for (let at = 0; at < found.length; at += 500) await redis.del(...found.slice(at, at + 500))
        return found.length
      } finally {
        await redis.quit().catch(() => redis.disconnect())
      }
    },
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(messageOf).join('; ')
  return error instanceof Error ? error.message || error.name : String(error)
}
