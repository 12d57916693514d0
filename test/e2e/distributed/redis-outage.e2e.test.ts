import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../gateway/support/https-client.js'
import {
  distributedServicesAvailable,
  eventually,
  freePort,
  startOwnRedis,
  stopOwnRedis,
} from './support/services.js'
import {
  type DistributedStack,
  ORDERS_API,
  startDistributedStack,
} from './support/start-distributed-stack.js'

const available = await distributedServicesAvailable('the Redis outage e2e test')

/**
 * The whole distributed stack on a Redis of the test's own, stopped mid-test and started again
 * on the same port: token routes fail closed with 503 problem+json (never a 401 that would make
 * clients drop good tokens), the rate limit fails closed as configured, public routes keep
 * working, and everything recovers without a restart.
 */
describe.skipIf(!available)('distributed mode when Redis goes away', () => {
  let redis: ChildProcess
  let port: number
  let stack: DistributedStack
  beforeAll(async () => {
    port = await freePort()
    redis = await startOwnRedis(port)
    stack = await startDistributedStack({
      redisUrl: `redis://127.0.0.1:${port}`,
      state: { rateLimitFailMode: 'closed', commandTimeoutMs: 300 },
      clients: [
        { clientId: 'gateway', name: 'Gateway', scopes: [], audiences: [ORDERS_API] },
        { clientId: 'partner', name: 'Partner', scopes: ['orders:read'], audiences: [ORDERS_API] },
      ],
      routes: [
        {
          id: 'phantom',
          match: { path: '/phantom/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'phantom', issuer: 'as', audience: ORDERS_API },
        },
        {
          id: 'split',
          match: { path: '/split/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'split', issuer: 'as', audience: ORDERS_API },
        },
        {
          id: 'limited',
          match: { path: '/limited/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'public' },
          rateLimits: [{ name: 'per-ip', key: 'ip', limit: 100, windowSeconds: 60 }],
        },
        {
          id: 'open',
          match: { path: '/open/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'public' },
        },
      ],
    })
  })
  afterAll(async () => {
    await stack?.close()
    if (redis !== undefined) await stopOwnRedis(redis)
  })

  it('answers 503 problem+json on token routes while Redis is down, and recovers when it returns', async () => {
    const [asA] = stack.authorizationServers
    const [gateway] = stack.gateways
    const response = await stack.fetch(`${asA.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`partner:${stack.clientSecrets.get('partner') ?? ''}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=orders%3Aread',
    })
    const { access_token: opaque } = (await response.json()) as { access_token: string }
    const call = (path: string, token?: string) =>
      request(`${gateway.url}${path}`, stack.pki.ca.cert, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      })
    expect((await call('/phantom/orders/1', opaque)).status).toBe(200)

    await stopOwnRedis(redis)
    await eventually(() => !gateway.state.health.isUp('subscription'), 5_000)

    // Even the warm cached token is refused: a revocation could be missed while Redis is away.
    for (const path of ['/phantom/orders/1', '/split/orders/1']) {
      const res = await call(path, path.startsWith('/split') ? 'c2lnbmF0dXJlLW9mLWEtand0' : opaque)
      expect(res.status).toBe(503)
      expect(res.headers['content-type']).toBe('application/problem+json')
      expect(res.headers['retry-after']).toBeDefined()
      expect(res.json()).toMatchObject({ status: 503 })
      expect(res.text).not.toContain(opaque)
      expect(res.text).not.toMatch(/redis|ECONNREFUSED|at .*\.ts/i)
    }
    // The rate limit was configured to fail closed.
    expect((await call('/limited/x')).status).toBe(503)
    // Routes that need no state keep working.
    expect((await call('/open/x')).status).toBe(200)

    redis = await startOwnRedis(port)
    await eventually(
      () => gateway.state.health.isUp('subscription') && gateway.state.health.isUp('commands'),
      10_000,
    )
    // The fresh Redis has no cached entry: the gateway introspects again, and the token works.
    expect((await call('/phantom/orders/1', opaque)).status).toBe(200)
    expect((await call('/limited/x')).status).toBe(200)
  })
})
