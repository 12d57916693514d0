import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisState, type RedisGatewayState } from './redis.js'

/**
 * The Redis state through Sentinel, across a real failover: a primary, a replica and one
 * Sentinel, all started by the test on free ports (the shared Redis is not touched). The primary
 * is killed; Sentinel promotes the replica and the state follows it without a restart.
 * Needs `redis-server` on PATH, as the other outage tests; under CI its absence fails the test.
 */
const haveRedisServer = await new Promise<boolean>((resolve) => {
  const probe = spawn('redis-server', ['--version'], { stdio: 'ignore' })
  probe.on('error', () => resolve(false))
  probe.on('exit', (code) => resolve(code === 0))
})
if (!haveRedisServer && process.env.CI === 'true') {
  throw new Error('redis-server is required in CI for the Sentinel failover test (not on PATH)')
}
if (!haveRedisServer) {
  process.stderr.write('skipping the Sentinel failover test: redis-server is not on PATH\n')
}

const silent = { error() {}, warn() {}, info() {} }

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now()
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function ask<T>(port: number, command: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  return client
    .connect()
    .then(() => command(client))
    .finally(() => client.disconnect())
}

describe.skipIf(!haveRedisServer)('redis gateway state through Sentinel', () => {
  const children: ChildProcess[] = []
  let dir: string
  let primaryPort: number
  let replicaPort: number
  let sentinelPort: number
  let primary: ChildProcess
  let state: RedisGatewayState

  function start(args: string[]): ChildProcess {
    const child = spawn('redis-server', args, { stdio: 'ignore' })
    child.on('error', () => undefined)
    children.push(child)
    return child
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-sentinel-'))
    ;[primaryPort, replicaPort, sentinelPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ])
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    primary = start(['--port', String(primaryPort), ...common])
    start([
      '--port',
      String(replicaPort),
      ...common,
      '--replicaof',
      '127.0.0.1',
      String(primaryPort),
    ])
    const sentinelConfig = join(dir, 'sentinel.conf')
    await writeFile(
      sentinelConfig,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor gatehouse 127.0.0.1 ${primaryPort} 1`,
        'sentinel down-after-milliseconds gatehouse 500',
        'sentinel failover-timeout gatehouse 3000',
        '',
      ].join('\n'),
    )
    start([sentinelConfig, '--sentinel'])
    // Sentinel has found the replica, and the replica is in sync.
    await eventually(async () => {
      const replicas = (await ask(sentinelPort, (client) =>
        client.call('SENTINEL', 'REPLICAS', 'gatehouse'),
      )) as string[][]
      return replicas.some((fields) => fields.includes(String(replicaPort)))
    }, 20_000)
    await eventually(
      async () =>
        (await ask(replicaPort, (client) => client.info('replication'))).includes(
          'master_link_status:up',
        ),
      10_000,
    )
    state = await createRedisState({
      redis: { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'gatehouse' },
      rateLimitFailMode: 'closed',
      logger: silent,
    })
  }, 40_000)
  afterAll(async () => {
    await state?.close()
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await once(child, 'exit')
      }
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('follows a failover to the promoted replica without a restart', async () => {
    await state.splitTokens.put('sig-hash', 'header.payload', 300)
    expect((await state.rateLimits.take('k', 10, 3600)).allowed).toBe(true)
    // Replicated before the primary dies (Redis replication is asynchronous).
    await ask(primaryPort, (client) => client.call('WAIT', '1', '2000'))

    primary.kill('SIGKILL')
    await once(primary, 'exit')

    await eventually(
      async () => (await state.splitTokens.get('sig-hash')) === 'header.payload',
      30_000,
    )
    const promoted = (await ask(sentinelPort, (client) =>
      client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'gatehouse'),
    )) as string[]
    expect(promoted[1]).toBe(String(replicaPort))
    // The bucket moved with the data: one token was taken before the failover.
    expect(await state.rateLimits.take('k', 10, 3600)).toMatchObject({
      allowed: true,
      remaining: 8,
    })
    await eventually(async () => state.health.isUp('subscription'), 10_000)
  }, 60_000)
})
