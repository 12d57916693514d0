import { createGatewayMetrics } from '@gatehouse/gateway'
import { Redis } from 'ioredis'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { RuntimeConfigError } from './errors.js'
import {
  describeState,
  openAuthorizationServerState,
  openGatewayState,
  PHANTOM_ENTRY_KEY_ENV,
  resolveState,
} from './state.js'

const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const redisProblem = await probeRedis()
if (redisProblem !== null && process.env.CI === 'true') {
  throw new Error(`Redis is required in CI (GATEHOUSE_TEST_REDIS_URL): ${redisProblem}`)
}

async function probeRedis(): Promise<string | null> {
  const client = new Redis(redisUrl, {
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
    return error instanceof Error ? error.message : String(error)
  } finally {
    client.disconnect()
  }
}

const REDIS = { driver: 'redis', url: { env: 'REDIS_URL' } } as const
const context = (env: Record<string, string>) => ({ env, baseDir: '.' })

function configErrorOf(run: () => unknown): RuntimeConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof RuntimeConfigError) return error
    throw error
  }
  throw new Error('expected a RuntimeConfigError')
}

describe('state selection', () => {
  it('is memory unless the configuration names Redis', () => {
    expect(resolveState({ driver: 'memory' }, context({}))).toEqual({ driver: 'memory' })
    expect(describeState({ driver: 'memory' })).toBe('memory (this process)')
  })

  it('takes the Redis URL from the environment, the key prefix from its prefix parameter', () => {
    const state = resolveState(
      REDIS,
      context({ REDIS_URL: 'redis://:pa55@cache.internal:6379/2?prefix=shop:' }),
    )
    expect(state).toEqual({
      driver: 'redis',
      url: 'redis://:pa55@cache.internal:6379/2',
      keyPrefix: 'shop:',
    })
    expect(describeState(state)).toBe('Redis redis://:***@cache.internal:6379/2 (prefix shop:)')
    expect(resolveState(REDIS, context({ REDIS_URL: 'rediss://cache' }))).toMatchObject({
      keyPrefix: 'gatehouse:',
    })
  })

  it('takes the shared phantom-entry key from the environment, 32 bytes or refused', () => {
    const key = Buffer.alloc(32, 7).toString('base64')
    const state = resolveState(
      REDIS,
      context({ REDIS_URL: 'redis://cache', [PHANTOM_ENTRY_KEY_ENV]: key }),
    )
    expect(
      state.driver === 'redis' &&
        Buffer.from(state.phantomEntryKey ?? []).equals(Buffer.alloc(32, 7)),
    ).toBe(true)
    const short = configErrorOf(() =>
      resolveState(
        REDIS,
        context({ REDIS_URL: 'redis://cache', [PHANTOM_ENTRY_KEY_ENV]: 'c2hvcnQ=' }),
      ),
    )
    expect(short.message).toBe(
      `state.url: ${PHANTOM_ENTRY_KEY_ENV} must be 32 bytes in base64 (got 5)`,
    )
  })

  it('refuses a missing variable, another scheme and an odd prefix, naming state.url', () => {
    expect(configErrorOf(() => resolveState(REDIS, context({}))).message).toBe(
      'state.url: environment variable REDIS_URL is not set',
    )
    expect(
      configErrorOf(() => resolveState(REDIS, context({ REDIS_URL: 'http://cache:6379' }))).message,
    ).toBe('state.url: must be a redis:// or rediss:// URL, not http://')
    expect(
      configErrorOf(() => resolveState(REDIS, context({ REDIS_URL: 'redis://cache?prefix=a b*' })))
        .message,
    ).toMatch(/prefix parameter/)
  })

  it('gives the authorization server its in-process bus and split-token store with memory', async () => {
    const shared = await openAuthorizationServerState({ driver: 'memory' }, () => undefined)
    expect(shared.revocations).toBeUndefined()
    expect(shared.splitTokens).toBeUndefined()
    await shared.close()
  })

  it('gives the gateway a memory state that keeps phantom entries', async () => {
    const state = await openGatewayState(
      { driver: 'memory' },
      { logger: pino({ level: 'silent' }), maxPhantomEntries: 10 },
    )
    try {
      expect(state).toHaveProperty('splitTokens')
    } finally {
      await state.close()
    }
  })

  describe.skipIf(redisProblem !== null)('on Redis', () => {
    it('publishes a revocation from the authorization server side that the gateway side receives', async () => {
      const resolved = resolveState(
        REDIS,
        context({ REDIS_URL: `${redisUrl}?prefix=gh-cli-test-${process.pid}:` }),
      )
      const shared = await openAuthorizationServerState(resolved, () => undefined)
      const metrics = createGatewayMetrics({ defaultMetrics: false })
      const gatewayState = await openGatewayState(resolved, {
        logger: pino({ level: 'silent' }),
        maxPhantomEntries: 10,
        registry: metrics.registry,
      })
      try {
        expect(shared.revocations).toBeDefined()
        expect(shared.splitTokens).toBeDefined()
        // A split-token entry written by the server side is read by the gateway side.
        await shared.splitTokens?.put('sig-runtime-test', 'header.payload', 60)
        expect(await gatewayState.splitTokens.get('sig-runtime-test')).toBe('header.payload')
        // The Redis health shows on the gateway's own metrics.
        expect(await metrics.registry.metrics()).toMatch(/gatehouse_gateway_redis_up\S* 1/)
      } finally {
        await gatewayState.close()
        await shared.close()
      }
    })
  })
})
