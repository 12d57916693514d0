import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StateUnavailable } from '../errors.js'
import { createRedisState, type RedisGatewayState, type RedisStateAlert } from './redis.js'
import type { PhantomEntry } from './types.js'

/**
 * Runs against the real Redis named by GATEHOUSE_TEST_REDIS_URL, each test under its own key
 * prefix. The outage test starts a Redis of its own on a free port, so the shared one is never
 * disturbed. Under CI Redis must be there: its absence fails the suite instead of skipping it.
 */
const url = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const reachable = await probe(url)
if (!reachable.ok && process.env.CI === 'true') {
  throw new Error(
    `Redis is required in CI but ${redact(url)} cannot be reached (${reachable.reason}); set GATEHOUSE_TEST_REDIS_URL`,
  )
}
if (!reachable.ok) {
  process.stderr.write(
    `skipping the Redis state tests: ${redact(url)} cannot be reached (${reachable.reason}); set GATEHOUSE_TEST_REDIS_URL\n`,
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

function redact(target: string): string {
  return target.replace(/\/\/([^:@/]*):[^@/]+@/, '//$1:***@')
}

const silent = { error() {}, warn() {}, info() {} }
const freshPrefix = () => `gatehouse-test:${randomBytes(6).toString('hex')}:`

function phantomEntry(overrides: Partial<PhantomEntry> = {}): PhantomEntry {
  return {
    jwt: 'header.payload.signature',
    tokenId: 'jti-1',
    subject: 'alice',
    clientId: 'client-1',
    scope: 'orders:read',
    audiences: ['https://api.example/orders'],
    expiresAt: Math.floor(Date.now() / 1000) + 300,
    ...overrides,
  }
}

async function eventually(
  check: () => Promise<boolean> | boolean,
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

async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(url)
  const keys = await client.keys(`${prefix}*`)
  if (keys.length > 0) await client.del(...keys)
  client.disconnect()
}

const entryKey = randomBytes(32)

/** Two gateway instances sharing one Redis, as `createGateway({ state })` uses them. */
async function twoInstances(prefix: string): Promise<[RedisGatewayState, RedisGatewayState]> {
  const open = async () => {
    const state = await createRedisState({
      url,
      keyPrefix: prefix,
      logger: silent,
      phantomEntryKey: entryKey,
    })
    // What createGateway does with any state: revocation events evict the phantom cache.
    state.revocations.subscribe((revocation) => void state.phantomCache.evict(revocation))
    return state
  }
  return [await open(), await open()]
}

describe.skipIf(!reachable.ok)('redis gateway state', () => {
  const prefix = freshPrefix()
  let a: RedisGatewayState
  let b: RedisGatewayState
  beforeAll(async () => {
    ;[a, b] = await twoInstances(prefix)
  })
  afterAll(async () => {
    await a.close()
    await b.close()
    await deleteKeys(prefix)
  })

  it('holds one rate limit across two instances under concurrent load', async () => {
    // 40 per hour: a refill adds one token every 90 s, far beyond this test.
    const takes = Array.from({ length: 160 }, (_, index) =>
      (index % 2 === 0 ? a : b).rateLimits.take('global|per-client|client:c1', 40, 3600),
    )
    const decisions = await Promise.all(takes)
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(40)
    const refused = decisions.find((decision) => !decision.allowed)
    expect(refused?.retryAfterSeconds).toBeGreaterThanOrEqual(89)
    expect(refused?.remaining).toBe(0)
    // Another key has its own bucket.
    expect((await b.rateLimits.take('global|per-client|client:c2', 40, 3600)).allowed).toBe(true)
  })

  it('refills on the Redis clock', async () => {
    const key = 'route|burst|ip:192.0.2.1'
    // 2 per 4 s: one token comes back every 2 s, far more than three calls take even on a busy machine.
    const [first, second, third] = await Promise.all([
      a.rateLimits.take(key, 2, 4),
      b.rateLimits.take(key, 2, 4),
      a.rateLimits.take(key, 2, 4),
    ])
    expect([first, second, third].filter((decision) => decision?.allowed)).toHaveLength(2)
    const refused = [first, second, third].find((decision) => decision?.allowed === false)
    expect(refused?.retryAfterSeconds).toBe(2)
    await eventually(async () => (await b.rateLimits.take(key, 2, 4)).allowed, 5_000)
  })

  it('shares phantom-cache entries, and a revocation at one instance evicts at the other within 1 s', async () => {
    await a.phantomCache.set('hash-1', phantomEntry(), 300)
    expect(await b.phantomCache.get('hash-1')).toMatchObject({ tokenId: 'jti-1', subject: 'alice' })
    // b now holds a local copy; the revocation must reach it over pub/sub.
    await a.revocations.publish({ tokenHash: 'hash-1', tokenId: 'jti-1' })
    const elapsed = await eventually(
      async () => (await b.phantomCache.get('hash-1')) === undefined,
      1_000,
    )
    expect(elapsed).toBeLessThan(1_000)
    expect(await a.phantomCache.get('hash-1')).toBeUndefined()
  })

  it('keeps the JWT out of Redis in the clear, and refuses an entry moved under another token or altered', async () => {
    await a.phantomCache.set('hash-sealed', phantomEntry({ tokenId: 'jti-sealed' }), 300)
    const raw = new Redis(url)
    const stored = (await raw.get(`${prefix}phantom:hash-sealed`)) ?? ''
    expect(stored).not.toBe('')
    expect(stored).not.toContain('header.payload.signature')
    expect(Buffer.from(stored, 'base64url').toString('latin1')).not.toContain('alice')
    // An attacker with write access to Redis copies the entry under the hash of their own token.
    await raw.set(`${prefix}phantom:hash-attacker`, stored, 'PX', 60_000)
    const altered = `${stored.slice(0, -2)}${stored.endsWith('AA') ? 'BB' : 'AA'}`
    await raw.set(`${prefix}phantom:hash-altered`, altered, 'PX', 60_000)
    raw.disconnect()
    expect(await b.phantomCache.get('hash-attacker')).toBeUndefined()
    expect(await b.phantomCache.get('hash-altered')).toBeUndefined()
    expect(await b.phantomCache.get('hash-sealed')).toMatchObject({ tokenId: 'jti-sealed' })
  })

  it('refuses an entry key that is not 256 bits at start-up', async () => {
    await expect(
      createRedisState({ url, logger: silent, phantomEntryKey: new Uint8Array(16) }),
    ).rejects.toThrow(TypeError)
  })

  it('writes no phantom entry to Redis without an entry key, and still evicts on revocation', async () => {
    const own = await createRedisState({ url, keyPrefix: prefix, logger: silent })
    own.revocations.subscribe((revocation) => void own.phantomCache.evict(revocation))
    try {
      await own.phantomCache.set('hash-local', phantomEntry({ tokenId: 'jti-local' }), 300)
      expect(await own.phantomCache.get('hash-local')).toMatchObject({ tokenId: 'jti-local' })
      const raw = new Redis(url)
      expect(await raw.exists(`${prefix}phantom:hash-local`)).toBe(0)
      raw.disconnect()
      await a.revocations.publish({ tokenId: 'jti-local' })
      await eventually(async () => (await own.phantomCache.get('hash-local')) === undefined, 1_000)
    } finally {
      await own.close()
    }
  })

  it('evicts by jti alone and bars a racing introspection from re-inserting the revoked token', async () => {
    await a.phantomCache.set('hash-2', phantomEntry({ tokenId: 'jti-2' }), 300)
    expect(await b.phantomCache.get('hash-2')).toBeDefined()
    await b.revocations.publish({ tokenId: 'jti-2' })
    await eventually(async () => (await a.phantomCache.get('hash-2')) === undefined, 1_000)
    await eventually(async () => (await b.phantomCache.get('hash-2')) === undefined, 1_000)
    // An introspection that started before the revocation finishes now: it must not land.
    await a.phantomCache.set('hash-2', phantomEntry({ tokenId: 'jti-2' }), 300)
    expect(await a.phantomCache.get('hash-2')).toBeUndefined()
    expect(await b.phantomCache.get('hash-2')).toBeUndefined()
  })

  it('keeps negative entries short and shared', async () => {
    await a.phantomCache.set('hash-inactive', 'inactive', 1)
    expect(await b.phantomCache.get('hash-inactive')).toBe('inactive')
    await eventually(async () => (await b.phantomCache.get('hash-inactive')) === undefined, 2_500)
  })

  it('ignores malformed or oversized revocation messages published by anyone on the channel', async () => {
    await a.phantomCache.set('hash-3', phantomEntry({ tokenId: 'jti-3' }), 300)
    const seen: unknown[] = []
    const unsubscribe = b.revocations.subscribe((revocation) => seen.push(revocation))
    const raw = new Redis(url)
    for (const message of [
      'not json',
      '42',
      'null',
      '{"tokenHash":""}',
      JSON.stringify({ tokenHash: 'x'.repeat(5000) }),
    ])
      await raw.publish(`${prefix}revocations`, message)
    await raw.publish(`${prefix}revocations`, JSON.stringify({ jti: 'jti-other' }))
    await eventually(() => seen.length > 0, 1_000)
    raw.disconnect()
    unsubscribe()
    expect(seen).toEqual([{ tokenId: 'jti-other' }])
    expect(await b.phantomCache.get('hash-3')).toBeDefined()
  })

  it('reads split-token entries written by another instance until they expire', async () => {
    await a.splitTokens.put('sig-hash', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0', 1)
    expect(await b.splitTokens.get('sig-hash')).toBe('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0')
    expect(await b.splitTokens.get('other')).toBeUndefined()
    await eventually(async () => (await b.splitTokens.get('sig-hash')) === undefined, 2_500)
  })

  it('deletes a split-token entry when its token is revoked', async () => {
    await a.splitTokens.put('revoked-sig-hash', 'header.payload', 300)
    expect(await b.splitTokens.get('revoked-sig-hash')).toBe('header.payload')
    await b.revocations.publish({ tokenHash: 'revoked-sig-hash', tokenId: 'split-jti' })
    await eventually(async () => (await a.splitTokens.get('revoked-sig-hash')) === undefined, 1_000)
  })

  it('shares abuse-detector windows across instances', async () => {
    const windowsA = a.createSlidingWindows<string>('clients_per_ip', {
      windowSeconds: 60,
      maxEntriesPerKey: 3,
    })
    const windowsB = b.createSlidingWindows<string>('clients_per_ip', {
      windowSeconds: 60,
      maxEntriesPerKey: 3,
    })
    await windowsA.record('198.51.100.7', 'client-a')
    await windowsB.record('198.51.100.7', 'client-b')
    expect(await windowsA.record('198.51.100.7', 'client-c')).toEqual([
      'client-a',
      'client-b',
      'client-c',
    ])
    // Bounded per key: the oldest entry goes.
    expect(await windowsB.record('198.51.100.7', 'client-d')).toEqual([
      'client-b',
      'client-c',
      'client-d',
    ])
    await windowsA.reset('198.51.100.7')
    expect(await windowsB.record('198.51.100.7', 'client-e')).toEqual(['client-e'])
  })
})

async function freePort(): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** A Redis of the test's own on `port`, without persistence. */
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
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  await eventually(async () => {
    if (failure !== undefined) throw failure
    try {
      if (client.status !== 'ready') await client.connect()
      return (await client.ping()) === 'PONG'
    } catch {
      client.disconnect()
      return false
    }
  }, 10_000)
  client.disconnect()
  return child
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}

describe.skipIf(!reachable.ok)('redis gateway state when Redis goes away', () => {
  let port: number
  let redis: ChildProcess
  let closedMode: RedisGatewayState
  let openMode: RedisGatewayState
  const registry = new Registry()
  const alerts: RedisStateAlert[] = []
  beforeAll(async () => {
    port = await freePort()
    redis = await startRedis(port)
    const target = `redis://127.0.0.1:${port}`
    closedMode = await createRedisState({
      url: target,
      rateLimitFailMode: 'closed',
      commandTimeoutMs: 300,
      logger: silent,
      registry,
      onAlert: (alert) => alerts.push(alert),
    })
    openMode = await createRedisState({ url: target, rateLimitFailMode: 'open', logger: silent })
  })
  afterAll(async () => {
    await closedMode.close()
    await openMode.close()
    await stopRedis(redis)
  })

  it('runs the scripts again after Redis forgot them (NOSCRIPT)', async () => {
    expect((await closedMode.rateLimits.take('k', 5, 60)).allowed).toBe(true)
    const admin = new Redis({ port, host: '127.0.0.1' })
    await admin.script('FLUSH')
    admin.disconnect()
    const next = await closedMode.rateLimits.take('k', 5, 60)
    expect(next).toMatchObject({ allowed: true, remaining: 3 })
  })

  it('fails closed for token lookups, applies each rate-limit fail mode, alerts, and recovers when Redis returns', async () => {
    await closedMode.phantomCache.set('warm', phantomEntry({ tokenId: 'warm-jti' }), 300)
    expect(await closedMode.phantomCache.get('warm')).toBeDefined()

    await stopRedis(redis)
    await eventually(() => !closedMode.health.isUp('subscription'), 5_000)

    // Auth lookups that need Redis answer 503, even a warm local copy: a revocation may be missed.
    for (const lookup of [
      () => closedMode.phantomCache.get('warm'),
      () => closedMode.phantomCache.get('cold'),
      () => closedMode.splitTokens.get('sig'),
      () => closedMode.rateLimits.take('k', 5, 60),
    ]) {
      const failure = await lookup().then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(failure).toBeInstanceOf(StateUnavailable)
      expect(failure).toMatchObject({ status: 503, code: 'temporarily_unavailable' })
    }
    // Fail-open rate limits let the request through.
    expect((await openMode.rateLimits.take('k', 5, 60)).allowed).toBe(true)
    // Publishing a revocation while Redis is away never throws.
    await expect(openMode.revocations.publish({ tokenHash: 'x' })).resolves.toBeUndefined()
    expect(alerts).toContainEqual({ kind: 'unavailable', connection: 'subscription' })
    // Each connection notices the outage on its own (the subscription first, the command
    // connection at its next command or reconnect attempt): wait for every gauge to drop.
    const allDown = async () => {
      const gauge = (await registry.getMetricsAsJSON()).find(
        (metric) => metric.name === 'gatehouse_gateway_redis_up',
      )
      return gauge?.values.every((value) => value.value === 0) === true
    }
    await eventually(allDown, 5_000)
    const metrics = await registry.getMetricsAsJSON()
    const up = metrics.find((metric) => metric.name === 'gatehouse_gateway_redis_up')
    expect(up?.values.every((value) => value.value === 0)).toBe(true)
    const failures = metrics.find(
      (metric) => metric.name === 'gatehouse_gateway_redis_failures_total',
    )
    expect(
      failures?.values.some(
        (value) => value.labels.component === 'phantom_cache' && value.value > 0,
      ),
    ).toBe(true)

    // Same port, empty Redis: the state reconnects without a restart.
    redis = await startRedis(port)
    await eventually(
      () => closedMode.health.isUp('subscription') && closedMode.health.isUp('commands'),
      10_000,
    )
    expect(alerts).toContainEqual({ kind: 'recovered', connection: 'subscription' })
    // Local copies were dropped on reconnection (revocations may have been missed).
    expect(closedMode.phantomCache.size).toBe(0)
    await expect(closedMode.phantomCache.get('warm')).resolves.toBeUndefined()
    expect((await closedMode.rateLimits.take('k', 5, 60)).allowed).toBe(true)
    await closedMode.splitTokens.put('sig', 'h.p', 60)
    await expect(closedMode.splitTokens.get('sig')).resolves.toBe('h.p')
  })
})
