import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRedisSplitTokenStore,
  type RedisSplitTokenStore,
} from '../tokens/redis-split-tokens.js'
import { createRedisRevocationBus, type RedisRevocationBus } from './redis-revocation-bus.js'
import type { RevocationEvent } from './revocation-bus.js'

/**
 * Runs against the real Redis named by GATEHOUSE_TEST_REDIS_URL (under CI its absence fails the
 * suite); the outage test starts a Redis of its own on a free port.
 */
const url = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const reachable = await probe(url)
if (!reachable.ok && process.env.CI === 'true') {
  throw new Error(
    `Redis is required in CI but it cannot be reached at GATEHOUSE_TEST_REDIS_URL (${reachable.reason})`,
  )
}
if (!reachable.ok) {
  process.stderr.write(
    `skipping the Redis revocation bus tests: Redis cannot be reached (${reachable.reason}); set GATEHOUSE_TEST_REDIS_URL\n`,
  )
}

async function probe(target: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new Redis(target, {
    lazyConnect: true,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  } finally {
    client.disconnect()
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return Date.now() - started
}

function revocation(overrides: Partial<RevocationEvent> = {}): RevocationEvent {
  return {
    jti: 'jti-1',
    tokenId: 'jti-1',
    tokenHash: 'hash-1',
    tokenType: 'access_token',
    clientId: 'client-1',
    subject: 'alice',
    expiresAt: Date.now() + 60_000,
    revokedAt: Date.now(),
    reason: 'revoked',
    ...overrides,
  }
}

describe.skipIf(!reachable.ok)('redis revocation bus', () => {
  const keyPrefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`
  const errors: Error[] = []
  let a: RedisRevocationBus
  let b: RedisRevocationBus
  let splitA: RedisSplitTokenStore
  beforeAll(async () => {
    a = await createRedisRevocationBus({ url, keyPrefix })
    b = await createRedisRevocationBus({ url, keyPrefix, onError: (error) => errors.push(error) })
    splitA = await createRedisSplitTokenStore({ url, keyPrefix })
  })
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), splitA.close()])
  })

  it('delivers a revocation published at one instance to the listeners of another within 1 s', async () => {
    const heard: RevocationEvent[] = []
    const unsubscribe = b.subscribe((event) => heard.push(event))
    const event = revocation()
    await a.publish(event)
    const elapsed = await eventually(() => heard.length === 1, 1_000)
    expect(elapsed).toBeLessThan(1_000)
    expect(heard).toEqual([event])
    unsubscribe()
  })

  it('reports and drops malformed messages on the channel instead of passing them on', async () => {
    const heard: RevocationEvent[] = []
    const unsubscribe = b.subscribe((event) => heard.push(event))
    const raw = new Redis(url)
    await raw.publish(`${keyPrefix}revocations`, 'not json')
    await raw.publish(`${keyPrefix}revocations`, JSON.stringify({ jti: 'x' }))
    await raw.publish(
      `${keyPrefix}revocations`,
      JSON.stringify(revocation({ tokenHash: 'h'.repeat(600) })),
    )
    await a.publish(revocation({ jti: 'last', tokenId: 'last' }))
    await eventually(() => heard.length === 1, 1_000)
    raw.disconnect()
    unsubscribe()
    expect(heard.map((event) => event.jti)).toEqual(['last'])
    expect(errors.length).toBeGreaterThanOrEqual(3)
  })

  it('writes split-token entries under the keys the gateway reads, with their lifetime', async () => {
    await splitA.put('sig-hash', 'header.payload', 60)
    const raw = new Redis(url)
    expect(await raw.get(`${keyPrefix}split:sig-hash`)).toBe('header.payload')
    expect(await raw.pttl(`${keyPrefix}split:sig-hash`)).toBeGreaterThan(55_000)
    await raw.del(`${keyPrefix}split:sig-hash`)
    raw.disconnect()
    expect(await splitA.get('absent')).toBeUndefined()
  })
})

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

async function startRedis(port: number): Promise<ChildProcess> {
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
    return (await probe(`redis://127.0.0.1:${port}`)).ok
  }, 10_000)
  return child
}

describe.skipIf(!reachable.ok)('redis revocation bus when Redis goes away', () => {
  let port: number
  let redis: ChildProcess
  beforeAll(async () => {
    port = await freePort()
    redis = await startRedis(port)
  })
  afterAll(async () => {
    if (redis.exitCode === null) {
      redis.kill('SIGTERM')
      await once(redis, 'exit')
    }
  })

  it('never fails a revocation: reports, tells local listeners, and publishes again once Redis is back', async () => {
    const target = `redis://127.0.0.1:${port}`
    const errors: Error[] = []
    const publisher = await createRedisRevocationBus({
      url: target,
      publishTimeoutMs: 200,
      onError: (error) => errors.push(error),
    })
    const localHeard: string[] = []
    publisher.subscribe((event) => localHeard.push(event.jti))

    redis.kill('SIGTERM')
    await once(redis, 'exit')
    await expect(publisher.publish(revocation({ jti: 'during-outage' }))).resolves.toBeUndefined()
    // A family revocation publishes several events: none of them waits on the outage.
    await Promise.all(
      ['family-1', 'family-2', 'family-3'].map((jti) => publisher.publish(revocation({ jti }))),
    )
    expect(errors.map((error) => error.message).join()).toMatch(
      /not published to Redis within 200 ms|stays queued/,
    )
    expect(localHeard).toEqual(['during-outage', 'family-1', 'family-2', 'family-3'])

    redis = await startRedis(port)
    const other = await createRedisRevocationBus({ url: target })
    const remoteHeard: string[] = []
    other.subscribe((event) => remoteHeard.push(event.jti))
    // The publisher reconnected by itself: the next revocation reaches the other instance.
    await eventually(async () => {
      await publisher.publish(revocation({ jti: 'after' }))
      return remoteHeard.includes('after')
    }, 10_000)
    await Promise.all([publisher.close(), other.close()])
  })
})
