import { join } from 'node:path'
import { Agent, request } from 'undici'
import { startBaselineServer } from '../baselines/start-baseline.js'
import { createBenchPki } from '../harness/bench-pki.js'
import type { ChildServer } from '../harness/child-server.js'
import {
  compareHttp,
  defaultHttpLoad,
  type HttpTarget,
  loadTargetsInterleaved,
  targetNamed,
} from '../harness/http-comparison.js'
import type { HttpLoadResult } from '../harness/load-generator.js'
import { loadSideBySide } from '../harness/side-by-side.js'
import { spreadOf } from '../harness/statistics.js'
import type { Suite, SuiteResult } from '../harness/types.js'
import { INTROSPECTION_CLIENT, OPAQUE_CLIENT } from '../servers/bench-oauth.js'
import { secretOf, startAuthorizationServer } from './authorization-server.js'
import {
  type GatewayRoutesInput,
  gatewayTarget,
  JWT_ROUTE_PATH,
  PHANTOM_ROUTE_PATH,
  startGatewayServer,
  startHaproxyJwtVerify,
  startNginxProxy,
} from './gateway-components.js'
import { type LocalIssuer, startLocalIssuer } from './gateway-issuer.js'
import { measureCacheMemory, WARM_UP_TOKENS } from './gateway-memory.js'
import { createOAuthClient } from './oauth-client.js'

const SUITE = 'gateway'
const DIRECT = 'upstream hit directly (http)'
const NODE_PROXY = 'node:http keep-alive proxy (TLS)'
const UNDICI_PROXY = 'undici Pool proxy (TLS)'
const LOGGED_PROXY = 'undici Pool proxy + pino access log (TLS)'
const HAPROXY = 'HAProxy 2.6 jwt_verify ES256 + iss/aud/exp (TLS)'
const NGINX = 'nginx plain proxy (TLS)'
const GATEWAY_JWT = 'Gatehouse gateway jwt route (TLS)'
const GATEWAY_PHANTOM = 'Gatehouse gateway phantom route, warm cache (TLS)'
const GATEWAY_JWT_TWO = 'Gatehouse gateway jwt route, --workers 2 (TLS)'
const ORDERS_PATH = '/orders/1'
/** Re-issue the phantom route's opaque token well before its 600 s lifetime ends. */
const OPAQUE_TOKEN_MAX_AGE_MS = 240_000

/**
 * The gateway against the floor and the alternatives, in one run, on the same hello upstream
 * with the same `Authorization: Bearer` ES256 JWT (the phantom route gets an opaque token from
 * the real authorization server instead). Every front end terminates TLS with the same
 * certificate, as the gateway must; the upstream behind them is plain http on loopback.
 */
export const gatewaySuite: Suite = {
  name: SUITE,
  description:
    'Gatehouse gateway (jwt, phantom) vs minimal Node proxies, HAProxy jwt_verify and nginx',
  usesHttpLoad: true,
  async run(context) {
    const pki = await createBenchPki()
    const oauth = createOAuthClient(pki.caCert)
    const agent = new Agent({ connect: { ca: pki.caCert } })
    const servers: ChildServer[] = []
    const started = async <Server extends ChildServer>(server: Promise<Server>) => {
      const running = await server
      servers.push(running)
      return running
    }
    let localIssuer: LocalIssuer | undefined
    try {
      const issuer = await startLocalIssuer(pki)
      localIssuer = issuer
      const cores = context.cpu.serverCores
      const tls = { certFile: pki.certFile, keyFile: pki.keyFile }
      const upstream = await started(startBaselineServer('hello-upstream', cores))
      const nodeProxy = await started(
        startBaselineServer('node-http-proxy', cores, upstream.url, tls),
      )
      const undiciProxy = await started(
        startBaselineServer('undici-pool-proxy', cores, upstream.url, tls),
      )
      // The same proxy writing one pino access-log line per request, as the gateway must: what
      // the logging requirement alone costs the floor (a reference, no target).
      const loggedProxy = await started(
        startBaselineServer(
          'undici-pool-proxy-logged',
          cores,
          upstream.url,
          tls,
          join(pki.dir, 'undici-pool-proxy-logged.log'),
        ),
      )
      const haproxy = await started(startHaproxyJwtVerify(context, pki, upstream.url, issuer))
      const nginx = await started(startNginxProxy(context, pki, upstream.url))
      const authorizationServer = await startAuthorizationServer(
        context,
        pki,
        oauth,
        'Gatehouse authorization server',
        'gatehouse-authorization-server.js',
        servers,
      )
      const routes: GatewayRoutesInput = {
        upstream: upstream.url,
        localIssuer: issuer,
        authorizationServer: {
          issuer: authorizationServer.ready.issuer,
          introspectionEndpoint: authorizationServer.introspectionEndpoint,
        },
        introspectionClientId: INTROSPECTION_CLIENT,
      }
      const introspectionSecret = secretOf(authorizationServer, INTROSPECTION_CLIENT)
      const gateway = await started(
        startGatewayServer(context, pki, routes, { workers: 1, introspectionSecret }),
      )
      const gatewayTwo = await started(
        startGatewayServer(context, pki, routes, { workers: 2, introspectionSecret }),
      )

      const jwt = await issuer.sign('bench-user')
      const bearer = { authorization: `Bearer ${jwt}` }
      let opaque = { token: '', issuedAt: 0 }
      const freshOpaque = async () => {
        if (Date.now() - opaque.issuedAt < OPAQUE_TOKEN_MAX_AGE_MS) return
        const token = await oauth.clientCredentials(
          authorizationServer.tokenEndpoint,
          OPAQUE_CLIENT,
          secretOf(authorizationServer, OPAQUE_CLIENT),
        )
        opaque = { token, issuedAt: Date.now() }
        // Warm the gateway's phantom cache: the first call introspects, the rounds then hit.
        await expectStatus(agent, new URL(PHANTOM_ROUTE_PATH, gateway.url), token, 200)
      }
      await freshOpaque()

      const targets: HttpTarget[] = [
        { name: DIRECT, url: new URL(ORDERS_PATH, upstream.url), headers: bearer },
        { name: NODE_PROXY, url: new URL(ORDERS_PATH, nodeProxy.url), headers: bearer },
        { name: UNDICI_PROXY, url: new URL(ORDERS_PATH, undiciProxy.url), headers: bearer },
        { name: LOGGED_PROXY, url: new URL(ORDERS_PATH, loggedProxy.url), headers: bearer },
        { name: HAPROXY, url: new URL(ORDERS_PATH, haproxy.url), headers: bearer },
        { name: NGINX, url: new URL(ORDERS_PATH, nginx.url), headers: bearer },
        gatewayTarget(GATEWAY_JWT, gateway, JWT_ROUTE_PATH, () => bearer),
        gatewayTarget(
          GATEWAY_PHANTOM,
          gateway,
          PHANTOM_ROUTE_PATH,
          () => ({ authorization: `Bearer ${opaque.token}` }),
          freshOpaque,
        ),
        gatewayTarget(GATEWAY_JWT_TWO, gatewayTwo, JWT_ROUTE_PATH, () => bearer),
      ]
      // Each target must answer the bearer request; the verifying ones must refuse a forged
      // signature, another audience and an expired token (the gateway allows 30 s of skew).
      for (const target of targets) {
        if (target.name === GATEWAY_PHANTOM) continue
        await expectStatus(agent, target.url, jwt, 200)
      }
      const refused = [
        forgeSignature(jwt),
        await issuer.sign('bench-user', { audience: 'https://api.bench.test/other' }),
        await issuer.sign('bench-user', { expiresAt: Math.floor(Date.now() / 1000) - 120 }),
      ]
      for (const name of [HAPROXY, GATEWAY_JWT, GATEWAY_JWT_TWO]) {
        const { url } = targetNamed(targets, name)
        for (const token of refused) await expectStatus(agent, url, token, 401)
      }
      await expectStatus(agent, new URL(PHANTOM_ROUTE_PATH, gateway.url), `${opaque.token}x`, 401)

      const measured = await loadTargetsInterleaved(context, targets, defaultHttpLoad(context))
      const fastest = fastestOf(measured, [NODE_PROXY, UNDICI_PROXY])
      context.log(` fastest minimal Node proxy in this run: ${fastest}`)
      const results: SuiteResult[] = []
      for (const contender of [NODE_PROXY, UNDICI_PROXY, LOGGED_PROXY, HAPROXY, NGINX]) {
        results.push(
          ...compareHttp({
            suite: SUITE,
            contender,
            baseline: DIRECT,
            measured,
            figures: ['requests/s'],
          }),
        )
      }
      for (const contender of [GATEWAY_JWT, GATEWAY_PHANTOM]) {
        results.push(
          ...compareHttp({
            suite: SUITE,
            contender,
            baseline: fastest,
            measured,
            throughputTarget: { atLeast: 0.8, source: 'issue #4' },
          }),
          ...compareHttp({
            suite: SUITE,
            contender,
            baseline: HAPROXY,
            measured,
            throughputTarget: { atLeast: 1, source: 'issue #4' },
          }),
          // Against a floor that also writes an access-log line per request (no target).
          ...compareHttp({
            suite: SUITE,
            contender,
            baseline: LOGGED_PROXY,
            measured,
            figures: ['requests/s'],
          }),
        )
      }
      results.push(
        ...compareHttp({
          suite: SUITE,
          contender: GATEWAY_JWT_TWO,
          baseline: GATEWAY_JWT,
          measured,
          figures: ['requests/s'],
        }),
      )

      // The same comparison as a CPU-cost ratio: each route loaded at the same time as the fastest
      // proxy, both on the server core, so host noise during a round hits both alike.
      const fastestTarget = targetNamed(targets, fastest)
      for (const contender of [GATEWAY_JWT, GATEWAY_PHANTOM]) {
        const sideBySide = await loadSideBySide(
          context,
          [targetNamed(targets, contender), fastestTarget],
          defaultHttpLoad(context),
        )
        results.push(
          ...compareHttp({
            suite: SUITE,
            contender,
            baseline: fastest,
            measured: sideBySide,
            label: 'side by side on one core (cost ratio)',
            figures: ['requests/s'],
          }),
        )
      }

      // The logging requirement alone, against the logged proxy's own bare twin.
      const loggedSideBySide = await loadSideBySide(
        context,
        [targetNamed(targets, LOGGED_PROXY), targetNamed(targets, UNDICI_PROXY)],
        defaultHttpLoad(context),
      )
      results.push(
        ...compareHttp({
          suite: SUITE,
          contender: LOGGED_PROXY,
          baseline: UNDICI_PROXY,
          measured,
          figures: ['requests/s'],
        }),
        ...compareHttp({
          suite: SUITE,
          contender: LOGGED_PROXY,
          baseline: UNDICI_PROXY,
          measured: loggedSideBySide,
          label: 'side by side on one core (cost ratio)',
          figures: ['requests/s'],
        }),
      )

      // Latency at half load: the same offered rate for the fastest proxy and both routes.
      const halfLoad = Math.round(medianRequestsPerSecond(measured, fastest) / 2)
      context.log(` half load: ${halfLoad} req/s offered (half the fastest proxy's median)`)
      const paced = await loadTargetsInterleaved(
        context,
        targets.filter((target) => [fastest, GATEWAY_JWT, GATEWAY_PHANTOM].includes(target.name)),
        { ...defaultHttpLoad(context), requestsPerSecond: halfLoad },
      )
      for (const contender of [GATEWAY_JWT, GATEWAY_PHANTOM]) {
        results.push(
          ...compareHttp({
            suite: SUITE,
            contender,
            baseline: fastest,
            measured: paced,
            label: 'at half load',
            figures: ['requests/s', 'p99'],
            addedP99Target: { maxAdded: 1, source: 'issue #4' },
          }),
        )
      }

      await expectWarmPhantomCache(agent, gateway, context.log)

      // Memory on a gateway that served nothing else, with room for every token sent.
      const cachedTokens = context.quick ? 10_000 : 100_000
      const memoryGateway = await started(
        startGatewayServer(context, pki, routes, {
          workers: 1,
          introspectionSecret,
          verifiedTokenCacheEntries: WARM_UP_TOKENS + cachedTokens,
        }),
      )
      results.push(
        ...(await measureCacheMemory(memoryGateway, issuer, pki.caCert, cachedTokens, context.log)),
      )
      return results
    } finally {
      await Promise.all(servers.map((server) => server.close()))
      await localIssuer?.close()
      await agent.close()
      await oauth.close()
      await pki.remove()
    }
  },
}

/**
 * The phantom figures must come from cache hits: the gateway's own metrics count the lookups.
 * One miss per opaque token is expected (the warming call), hardly any other.
 */
export async function expectWarmPhantomCache(
  agent: Agent,
  gateway: ChildServer,
  log: (line: string) => void,
): Promise<void> {
  const adminUrl = gateway.ready.adminUrl
  if (typeof adminUrl !== 'string') throw new Error('the gateway reported no admin (metrics) URL')
  const response = await request(`${adminUrl}/metrics`, { dispatcher: agent })
  const text = await response.body.text()
  const count = (result: string) =>
    Number(
      text.match(
        new RegExp(
          `^gatehouse_gateway_cache_lookups_total\\{cache="phantom",result="${result}"\\} (\\d+)`,
          'm',
        ),
      )?.[1] ?? 0,
    )
  const hits = count('hit')
  const misses = count('miss')
  log(` phantom cache lookups during the run: ${hits} hits, ${misses} misses`)
  if (hits === 0 || misses / (hits + misses) > 0.01) {
    throw new Error(
      `the phantom route was not measured on a warm cache (${hits} hits, ${misses} misses)`,
    )
  }
}

export async function expectStatus(
  agent: Agent,
  url: URL,
  token: string,
  status: number,
): Promise<void> {
  const response = await request(url, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}` },
  })
  await response.body.dump()
  if (response.statusCode !== status) {
    throw new Error(
      `${url.origin}${url.pathname} answered ${response.statusCode}, expected ${status}`,
    )
  }
}

/** The same token with one signature character changed: a forgery every verifier must refuse. */
function forgeSignature(jwt: string): string {
  const at = jwt.length - 10
  const swapped = jwt[at] === 'A' ? 'B' : 'A'
  return `${jwt.slice(0, at)}${swapped}${jwt.slice(at + 1)}`
}

function medianRequestsPerSecond(
  measured: ReadonlyMap<string, readonly HttpLoadResult[]>,
  name: string,
): number {
  const rounds = measured.get(name)
  if (rounds === undefined) throw new Error(`no rounds for ${name}`)
  return spreadOf(rounds.map((round) => round.requestsPerSecond)).median
}

function fastestOf(
  measured: ReadonlyMap<string, readonly HttpLoadResult[]>,
  names: readonly string[],
): string {
  const ranked = [...names].sort(
    (a, b) => medianRequestsPerSecond(measured, b) - medianRequestsPerSecond(measured, a),
  )
  const first = ranked[0]
  if (first === undefined) throw new Error('no proxies to rank')
  return first
}
