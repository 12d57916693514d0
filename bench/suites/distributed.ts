import { randomBytes } from 'node:crypto'
import { Agent, request } from 'undici'
import { startBaselineServer } from '../baselines/start-baseline.js'
import { createBenchPki } from '../harness/bench-pki.js'
import type { ChildServer } from '../harness/child-server.js'
import {
  compareHttp,
  defaultHttpLoad,
  type HttpTarget,
  loadTargetsInterleaved,
} from '../harness/http-comparison.js'
import type { Suite, SuiteContext } from '../harness/types.js'
import { INTROSPECTION_CLIENT, OPAQUE_CLIENT } from '../servers/bench-oauth.js'
import {
  checkServer,
  INTROSPECTION,
  name,
  type RunningServer,
  secretOf,
  startAuthorizationServer,
  TOKEN_OPAQUE,
  targetsFor,
} from './authorization-server.js'
import {
  type BenchKeyPrefix,
  type BenchSchema,
  createBenchKeyPrefix,
  createBenchSchema,
  DEFAULT_POSTGRES_URL,
  DEFAULT_REDIS_URL,
  describeUrl,
} from './distributed-services.js'
import { expectStatus, expectWarmPhantomCache } from './gateway.js'
import {
  type GatewayChild,
  type GatewayRoutesInput,
  gatewayTarget,
  PHANTOM_ROUTE_PATH,
  RATE_LIMITED_PHANTOM_ROUTE_PATH,
  startGatewayServer,
} from './gateway-components.js'
import { type LocalIssuer, startLocalIssuer } from './gateway-issuer.js'
import { createOAuthClient, type OAuthClient } from './oauth-client.js'

const SUITE = 'distributed'
const ON_POSTGRES = 'Gatehouse on PostgreSQL'
const ON_SQLITE = 'Gatehouse on SQLite'
const PHANTOM_MEMORY = 'gateway phantom route, warm cache, memory state (TLS)'
const PHANTOM_REDIS = 'gateway phantom route, warm cache, Redis state (TLS)'
const LIMITED_MEMORY = 'gateway phantom route + rate limit, memory state (TLS)'
const LIMITED_REDIS = 'gateway phantom route + rate limit, Redis state (TLS)'
/** Re-issue the phantom routes' opaque token well before its 600 s lifetime ends. */
const OPAQUE_TOKEN_MAX_AGE_MS = 240_000

/**
 * Distributed mode against one machine (issue #7), in one run with interleaved rounds:
 *  - the authorization server on PostgreSQL (a schema of its own) against the same server on
 *    SQLite: opaque client_credentials issuance and introspection;
 *  - the gateway's phantom route on a warm cache with Redis state against memory state, and the
 *    same route with a per-client rate limit that is never reached (every request then takes a
 *    token from a bucket: a Lua script in Redis, a map in memory).
 * PostgreSQL and Redis are the real services (GATEHOUSE_BENCH_POSTGRES_URL,
 * GATEHOUSE_BENCH_REDIS_URL); when either is unreachable the suite stops with an error.
 */
export const distributedSuite: Suite = {
  name: SUITE,
  description:
    'Gatehouse on PostgreSQL vs SQLite (token, introspection); gateway phantom route on Redis vs memory state',
  usesHttpLoad: true,
  async run(context) {
    const postgresUrl = process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? DEFAULT_POSTGRES_URL
    const redisUrl = process.env.GATEHOUSE_BENCH_REDIS_URL ?? DEFAULT_REDIS_URL
    // Both services are checked before any server starts.
    const schema = await createBenchSchema(postgresUrl)
    let keys: BenchKeyPrefix | undefined
    const pki = await createBenchPki()
    const oauth = createOAuthClient(pki.caCert)
    const agent = new Agent({ connect: { ca: pki.caCert } })
    const servers: ChildServer[] = []
    let localIssuer: LocalIssuer | undefined
    try {
      keys = await createBenchKeyPrefix(redisUrl)
      localIssuer = await startLocalIssuer(pki)
      context.log(` PostgreSQL ${describeUrl(postgresUrl)}, schema ${schema.schema}`)
      context.log(` Redis ${describeUrl(redisUrl)}, key prefix ${keys.keyPrefix}`)
      const authorizationServers = await startAuthorizationServers(
        context,
        pki,
        oauth,
        schema,
        servers,
      )
      const [, onSqlite] = authorizationServers
      const gateways = await startGateways(context, pki, onSqlite, localIssuer, keys, servers)

      let opaque = { token: '', issuedAt: 0 }
      const freshOpaque = async () => {
        if (Date.now() - opaque.issuedAt < OPAQUE_TOKEN_MAX_AGE_MS) return
        const token = await oauth.clientCredentials(
          onSqlite.tokenEndpoint,
          OPAQUE_CLIENT,
          secretOf(onSqlite, OPAQUE_CLIENT),
        )
        opaque = { token, issuedAt: Date.now() }
        // Warm every phantom cache: the first call introspects, the rounds then hit.
        for (const gateway of [gateways.memory, gateways.redis]) {
          for (const path of [PHANTOM_ROUTE_PATH, RATE_LIMITED_PHANTOM_ROUTE_PATH]) {
            await expectStatus(agent, new URL(path, gateway.url), token, 200)
          }
        }
      }
      await freshOpaque()
      // Both states must refuse what they must: an unknown opaque token is a 401 on every route.
      for (const gateway of [gateways.memory, gateways.redis]) {
        for (const path of [PHANTOM_ROUTE_PATH, RATE_LIMITED_PHANTOM_ROUTE_PATH]) {
          await expectStatus(agent, new URL(path, gateway.url), `${opaque.token}x`, 401)
        }
      }
      const phantom = (targetName: string, gateway: GatewayChild, path: string): HttpTarget =>
        gatewayTarget(
          targetName,
          gateway,
          path,
          () => ({ authorization: `Bearer ${opaque.token}` }),
          freshOpaque,
        )
      const measuredFigures = [TOKEN_OPAQUE, INTROSPECTION]
      const targets: HttpTarget[] = [
        ...authorizationServers.flatMap((server) =>
          targetsFor(oauth, server).filter((target) =>
            measuredFigures.some((figure) => target.name === name(server.label, figure)),
          ),
        ),
        phantom(PHANTOM_MEMORY, gateways.memory, PHANTOM_ROUTE_PATH),
        phantom(PHANTOM_REDIS, gateways.redis, PHANTOM_ROUTE_PATH),
        phantom(LIMITED_MEMORY, gateways.memory, RATE_LIMITED_PHANTOM_ROUTE_PATH),
        phantom(LIMITED_REDIS, gateways.redis, RATE_LIMITED_PHANTOM_ROUTE_PATH),
      ]
      const load = defaultHttpLoad(context)
      const scriptCallsBefore = await keys.scriptCalls()
      const measured = await loadTargetsInterleaved(context, targets, load)
      const scriptCalls = (await keys.scriptCalls()) - scriptCallsBefore
      // Every request of the Redis rate-limited rounds takes a bucket token with one EVALSHA.
      const limitedRequests = (measured.get(LIMITED_REDIS) ?? []).reduce(
        (sum, round) => sum + round.requestsPerSecond * load.durationSeconds,
        0,
      )
      context.log(
        ` Redis Lua script calls during the rounds: ${scriptCalls} (the measured Redis rate-limited rounds made about ${Math.round(limitedRequests)} requests)`,
      )
      if (scriptCalls < limitedRequests * 0.9) {
        throw new Error('the Redis-state gateway did not take its rate-limit buckets in Redis')
      }

      for (const gateway of [gateways.memory, gateways.redis]) {
        context.log(` ${gateway.name}:`)
        await expectWarmPhantomCache(agent, gateway, context.log)
      }
      await expectRedisHealthy(agent, gateways.redis, context.log)
      const written = await keys.countKeys()
      context.log(` Redis keys under ${keys.keyPrefix} after the rounds: ${written}`)
      if (written === 0) throw new Error('the Redis-state gateway wrote nothing to Redis')

      return [
        ...measuredFigures.flatMap((figure) =>
          compareHttp({
            suite: SUITE,
            contender: name(ON_POSTGRES, figure),
            baseline: name(ON_SQLITE, figure),
            measured,
            figures: ['requests/s'],
          }),
        ),
        ...compareHttp({
          suite: SUITE,
          contender: PHANTOM_REDIS,
          baseline: PHANTOM_MEMORY,
          measured,
          throughputTarget: { atLeast: 0.7, source: 'issue #7' },
        }),
        ...compareHttp({
          suite: SUITE,
          contender: LIMITED_REDIS,
          baseline: LIMITED_MEMORY,
          measured,
        }),
      ]
    } finally {
      await Promise.all(servers.map((server) => server.close()))
      await localIssuer?.close()
      await agent.close()
      await oauth.close()
      await pki.remove()
      if (keys !== undefined) {
        const removed = await keys.remove()
        context.log(` removed ${removed} Redis keys under ${keys.keyPrefix}`)
      }
      await schema.drop()
      context.log(` dropped PostgreSQL schema ${schema.schema}`)
    }
  },
}

/** The same server twice on the server core: PostgreSQL first, then SQLite. Both are checked. */
async function startAuthorizationServers(
  context: SuiteContext,
  pki: Awaited<ReturnType<typeof createBenchPki>>,
  oauth: OAuthClient,
  schema: BenchSchema,
  servers: ChildServer[],
): Promise<[RunningServer, RunningServer]> {
  const script = 'gatehouse-authorization-server.js'
  const onPostgres = await startAuthorizationServer(
    context,
    pki,
    oauth,
    ON_POSTGRES,
    script,
    servers,
    {
      args: ['--postgres-schema', schema.schema],
      env: { GATEHOUSE_BENCH_POSTGRES_URL: schema.url },
    },
  )
  const onSqlite = await startAuthorizationServer(context, pki, oauth, ON_SQLITE, script, servers)
  for (const server of [onPostgres, onSqlite]) {
    context.log(` ${server.label}: store = ${server.ready.store}`)
    await checkServer(oauth, server)
  }
  return [onPostgres, onSqlite]
}

/** Two one-worker gateways with the same routes, introspecting at the SQLite server: memory and Redis state. */
async function startGateways(
  context: SuiteContext,
  pki: Awaited<ReturnType<typeof createBenchPki>>,
  authorizationServer: RunningServer,
  localIssuer: LocalIssuer,
  keys: BenchKeyPrefix,
  servers: ChildServer[],
): Promise<{ memory: GatewayChild; redis: GatewayChild }> {
  const started = async <Server extends ChildServer>(server: Promise<Server>) => {
    const running = await server
    servers.push(running)
    return running
  }
  const upstream = await started(startBaselineServer('hello-upstream', context.cpu.serverCores))
  const routes: GatewayRoutesInput = {
    upstream: upstream.url,
    // The configuration's jwt route is not measured here.
    localIssuer,
    authorizationServer: {
      issuer: authorizationServer.ready.issuer,
      introspectionEndpoint: authorizationServer.introspectionEndpoint,
    },
    introspectionClientId: INTROSPECTION_CLIENT,
  }
  const introspectionSecret = secretOf(authorizationServer, INTROSPECTION_CLIENT)
  const memory = await started(
    startGatewayServer(context, pki, routes, { workers: 1, introspectionSecret }),
  )
  const redis = await started(
    startGatewayServer(context, pki, routes, {
      workers: 1,
      introspectionSecret,
      redisState: {
        url: keys.url,
        keyPrefix: keys.keyPrefix,
        phantomEntryKey: randomBytes(32).toString('base64'),
      },
    }),
  )
  for (const gateway of [memory, redis]) {
    context.log(` ${gateway.name}: state = ${String(gateway.ready.state)}`)
  }
  return { memory, redis }
}

/**
 * A Redis-state gateway whose Redis failed would still answer 200 on the rate-limited route
 * (rate limits fail open): the figures count only if Redis stayed up and nothing failed.
 */
async function expectRedisHealthy(
  agent: Agent,
  gateway: ChildServer,
  log: (line: string) => void,
): Promise<void> {
  const adminUrl = gateway.ready.adminUrl
  if (typeof adminUrl !== 'string') throw new Error('the gateway reported no admin (metrics) URL')
  const response = await request(`${adminUrl}/metrics`, { dispatcher: agent })
  const text = await response.body.text()
  const up = text.match(/^gatehouse_gateway_redis_up\{connection="commands"\} (\d+)/m)?.[1]
  const failures = [...text.matchAll(/^gatehouse_gateway_redis_failures_total\{[^}]*\} (\d+)/gm)]
    .map((match) => Number(match[1]))
    .reduce((sum, count) => sum + count, 0)
  log(` Redis state: redis_up=${up ?? 'absent'}, ${failures} failed operations`)
  if (up !== '1' || failures > 0) {
    throw new Error(
      `the Redis-state gateway lost Redis during the run (up=${up ?? 'absent'}, ${failures} failures)`,
    )
  }
}
