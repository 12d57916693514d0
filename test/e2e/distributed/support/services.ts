/**
 * The real services the distributed tests run against, named by the environment (`.ci/run` sets
 * them to the local services): GATEHOUSE_TEST_POSTGRES_URL and GATEHOUSE_TEST_REDIS_URL. Under
 * CI a missing service fails the suite; elsewhere the suite is skipped with a message.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'

export const postgresUrl =
  process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Whether both services answer; throws under CI when one does not. */
export async function distributedServicesAvailable(suite: string): Promise<boolean> {
  const problems = (await Promise.all([probePostgres(), probeRedis(redisUrl)])).filter(
    (problem): problem is string => problem !== null,
  )
  if (problems.length === 0) return true
  const message = `${suite} needs PostgreSQL (GATEHOUSE_TEST_POSTGRES_URL) and Redis (GATEHOUSE_TEST_REDIS_URL): ${problems.join('; ')}`
  if (process.env.CI === 'true') throw new Error(`required in CI: ${message}`)
  process.stderr.write(`skipping: ${message}\n`)
  return false
}

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    return `PostgreSQL unreachable (${error instanceof Error ? error.message : String(error)})`
  } finally {
    await client.end().catch(() => undefined)
  }
}

export async function probeRedis(url: string): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return null
  } catch (error) {
    return `Redis unreachable (${error instanceof Error ? error.message : String(error)})`
  } finally {
    client.disconnect()
  }
}

export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return Date.now() - started
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** A Redis of the test's own (no persistence), so stopping it never disturbs the shared one. */
export async function startOwnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  let failure: Error | undefined
  child.on('error', (error) => {
    failure = new Error(
      `cannot start redis-server, which the outage tests run on a port of their own (it must be on PATH): ${error.message}`,
    )
  })
  await eventually(async () => {
    if (failure !== undefined) throw failure
    return (await probeRedis(`redis://127.0.0.1:${port}`)) === null
  }, 10_000)
  return child
}

export async function stopOwnRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}
