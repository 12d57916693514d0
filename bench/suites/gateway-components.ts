import { createReadStream } from 'node:fs'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { GatewayConfigInput } from '@gatehouse/gateway'
import type { BenchPki } from '../harness/bench-pki.js'
import { type ChildServer, startChildServer } from '../harness/child-server.js'
import { ensureDebianTool } from '../harness/debian-package.js'
import { freePort, startExternalServer } from '../harness/external-server.js'
import type { HttpTarget } from '../harness/http-comparison.js'
import type { SuiteContext } from '../harness/types.js'
import { BENCH_AUDIENCE } from '../servers/bench-oauth.js'

/**
 * The C proxies of the gateway suite, each terminating TLS with the suite's certificate in front
 * of the same hello upstream: HAProxy 2.6 checking the bearer JWT with `jwt_verify` (plus the
 * iss/aud/exp rules a user would write), and nginx as a plain proxy for reference. Both are
 * Debian packages, installed with apt-get when missing (and the run says so); a proxy that
 * cannot be installed or refuses its configuration stops the suite with its own error output.
 */
export async function startHaproxyJwtVerify(
  context: SuiteContext,
  pki: BenchPki,
  upstream: URL,
  jwt: { readonly issuer: string; readonly publicKeyFile: string },
): Promise<ChildServer> {
  requireTool(context, 'haproxy', ['-v'])
  const port = await freePort()
  const config = `global
  maxconn 4096
  nbthread 1

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 60s

frontend bench
  bind 127.0.0.1:${port} ssl crt ${pki.certAndKeyFile}
  http-request set-var(txn.bearer) http_auth_bearer
  http-request deny deny_status 401 unless { var(txn.bearer) -m found }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_header_query('$.alg') -m str ES256 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.iss') -m str ${jwt.issuer} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.aud') -m str ${BENCH_AUDIENCE} }
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.now) date()
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 1 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify("ES256","${jwt.publicKeyFile}") -m int 1 }
  default_backend hello

backend hello
  http-reuse always
  server hello ${upstream.hostname}:${upstream.port}
`
  const file = join(pki.dir, 'haproxy.cfg')
  await writeFile(file, config)
  return startExternalServer({
    name: 'HAProxy jwt_verify',
    command: 'haproxy',
    args: ['-db', '-f', file],
    port,
    protocol: 'https',
    cores: context.cpu.serverCores,
  })
}

export async function startNginxProxy(
  context: SuiteContext,
  pki: BenchPki,
  upstream: URL,
): Promise<ChildServer> {
  requireTool(context, 'nginx', ['-v'])
  const port = await freePort()
  const prefix = join(pki.dir, 'nginx')
  await mkdir(prefix, { recursive: true })
  const config = `worker_processes 1;
daemon off;
pid ${join(prefix, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  upstream hello {
    server ${upstream.hostname}:${upstream.port};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${pki.certFile};
    ssl_certificate_key ${pki.keyFile};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://hello;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`
  const file = join(prefix, 'nginx.conf')
  await writeFile(file, config)
  return startExternalServer({
    name: 'nginx proxy',
    command: 'nginx',
    args: ['-p', prefix, '-e', 'stderr', '-c', file],
    port,
    protocol: 'https',
    cores: context.cpu.serverCores,
  })
}

function requireTool(context: SuiteContext, command: string, versionArgs: string[]): void {
  if (!ensureDebianTool({ command, versionArgs, debianPackage: command }, context.log)) {
    throw new Error(
      `${command} is not installed and apt-get could not install it: the gateway suite compares with it`,
    )
  }
}

export interface GatewayRoutesInput {
  readonly upstream: URL
  /** The suite's own ES256 issuer, for the `jwt` route. */
  readonly localIssuer: { readonly issuer: string; readonly jwksUri: string }
  /** The real Gatehouse authorization server, for the `phantom` route. */
  readonly authorizationServer: { readonly issuer: string; readonly introspectionEndpoint: string }
  readonly introspectionClientId: string
}

export const JWT_ROUTE_PATH = '/jwt/orders/1'
export const PHANTOM_ROUTE_PATH = '/phantom/orders/1'
export const RATE_LIMITED_PHANTOM_ROUTE_PATH = '/phantom-rate-limited/orders/1'
/** Requests per second per client on the rate-limited route: far above what one core serves. */
const UNREACHED_RATE_LIMIT = 1_000_000_000

/** The gateway configuration: a `jwt` route and a `phantom` route in front of the hello upstream. */
export function gatewayConfig(
  pki: BenchPki,
  input: GatewayRoutesInput,
  options: GatewayServerOptions & { readonly port: number },
): GatewayConfigInput {
  return {
    // Metrics (cache hit counts) from single-process gateways; a cluster's primary would aggregate.
    ...(options.workers === 1 ? { admin: { host: '127.0.0.1', port: 0 } } : {}),
    listen: {
      host: '127.0.0.1',
      port: options.port,
      tls: { cert: { file: pki.certFile }, key: { file: pki.keyFile } },
      limits: { keepAliveTimeoutMs: 60_000 },
    },
    issuers: {
      local: {
        issuer: input.localIssuer.issuer,
        jwksUri: input.localIssuer.jwksUri,
        ca: { file: pki.caFile },
        algorithms: ['ES256'],
      },
      gatehouse: {
        issuer: input.authorizationServer.issuer,
        jwksUri: `${input.authorizationServer.issuer}/jwks`,
        ca: { file: pki.caFile },
        algorithms: ['ES256'],
        introspection: {
          endpoint: input.authorizationServer.introspectionEndpoint,
          clientId: input.introspectionClientId,
          clientSecret: { env: 'GATEHOUSE_BENCH_INTROSPECTION_SECRET' },
        },
      },
    },
    upstreams: {
      hello: { url: input.upstream.origin, allowInsecureHttp: true, maxSockets: 128 },
    },
    routes: [
      {
        id: 'jwt',
        match: { path: '/jwt/**', methods: ['GET'] },
        upstream: 'hello',
        auth: { method: 'jwt', issuer: 'local', audience: BENCH_AUDIENCE },
      },
      {
        id: 'phantom',
        match: { path: '/phantom/**', methods: ['GET'] },
        upstream: 'hello',
        auth: { method: 'phantom', issuer: 'gatehouse', audience: BENCH_AUDIENCE },
      },
      // The same phantom route with a per-client rate limit that is never reached: every request
      // takes a token from the state's bucket (a Redis Lua script with Redis state).
      {
        id: 'phantom-rate-limited',
        match: { path: '/phantom-rate-limited/**', methods: ['GET'] },
        upstream: 'hello',
        auth: { method: 'phantom', issuer: 'gatehouse', audience: BENCH_AUDIENCE },
        rateLimits: [
          { name: 'bench-client', key: 'client', limit: UNREACHED_RATE_LIMIT, windowSeconds: 1 },
        ],
      },
    ],
    phantomCache: { maxEntries: 100_000 },
    verifiedTokenCache: { maxEntries: options.verifiedTokenCacheEntries ?? 100_000 },
  }
}

export interface GatewayServerOptions {
  readonly workers: number
  readonly introspectionSecret: string
  /** The verified-token cache size (100,000 by default, the gateway's default). */
  readonly verifiedTokenCacheEntries?: number
  /** Redis state instead of memory state (one worker only; see servers/gateway.ts). */
  readonly redisState?: {
    readonly url: string
    readonly keyPrefix: string
    /** 32 bytes in base64: phantom entries are shared through Redis, sealed with it. */
    readonly phantomEntryKey: string
  }
  /** More arguments for the server script, e.g. `['--log-level', 'warn']` (tools/gateway-ab.ts). */
  readonly serverArgs?: readonly string[]
  /** Another build's `servers/gateway.js` (default: this build's). */
  readonly script?: string
  /** Where the access log goes (default: a file in the PKI folder). */
  readonly logFile?: string
  /** More options for node itself, e.g. `['--max-semi-space-size=32']` (tools/gateway-ab.ts). */
  readonly nodeArgs?: readonly string[]
}

let gatewayCount = 0

/** A gateway started by the suite, with the file its access log goes to. */
export interface GatewayChild extends ChildServer {
  readonly logFile: string
}

/** Starts the gateway in its own process (`workers` > 1: node:cluster) on the server core(s). */
export async function startGatewayServer(
  context: SuiteContext,
  pki: BenchPki,
  input: GatewayRoutesInput,
  options: GatewayServerOptions,
): Promise<GatewayChild> {
  const port = options.workers > 1 ? await freePort() : 0
  const file = join(pki.dir, `gateway-${++gatewayCount}.json`)
  await writeFile(file, JSON.stringify(gatewayConfig(pki, input, { ...options, port }), null, 2))
  const redis = options.redisState
  if (redis !== undefined && options.workers !== 1) {
    throw new TypeError('the benchmark gateway runs Redis state with one worker only')
  }
  const logFile = options.logFile ?? join(pki.dir, `gateway-${gatewayCount}.log`)
  const server = await startChildServer({
    name: `Gatehouse gateway (${options.workers} worker${options.workers > 1 ? 's' : ''}${redis === undefined ? '' : ', Redis state'})`,
    script: options.script ?? fileURLToPath(new URL('../servers/gateway.js', import.meta.url)),
    args: [
      file,
      String(options.workers),
      ...(redis === undefined ? [] : ['--redis-key-prefix', redis.keyPrefix]),
      ...(options.serverArgs ?? []),
    ],
    cores: context.cpu.serverCores,
    protocol: 'https',
    nodeArgs: ['--expose-gc', ...(options.nodeArgs ?? [])],
    env: {
      GATEHOUSE_BENCH_GATEWAY_LOG: logFile,
      GATEHOUSE_BENCH_INTROSPECTION_SECRET: options.introspectionSecret,
      ...(redis === undefined
        ? {}
        : {
            GATEHOUSE_BENCH_REDIS_URL: redis.url,
            GATEHOUSE_BENCH_PHANTOM_ENTRY_KEY: redis.phantomEntryKey,
          }),
    },
    startTimeoutMs: 30_000,
  })
  return Object.assign(server, { logFile })
}

/** The gateway writes its access log at least every 250 ms (createLogDestination). */
const LOG_FLUSH_WAIT_MS = 500
/** wrk closes its connections when a round ends; the gateway logs those requests as 499. */
const CLIENT_CLOSED = 499

/**
 * Explains a failed round from the gateway's own access log: `mark()` before the round, and
 * `explain()` counts the answers of 400 and above logged since then by status and reason
 * ("2× 502 upstream.unreachable"), because wrk only counts them.
 */
export function accessLogWatch(logFile: string) {
  let from = 0
  return {
    async mark(): Promise<void> {
      from = await stat(logFile).then(
        (info) => info.size,
        () => 0,
      )
    },
    async explain(): Promise<string> {
      await sleep(LOG_FLUSH_WAIT_MS)
      const counts = new Map<string, number>()
      const lines = createInterface({ input: createReadStream(logFile, { start: from }) })
      for await (const line of lines) {
        const match = /"status":(\d+),"reason":("(?:[^"\\]|\\.)*")/.exec(line)
        const status = Number(match?.[1])
        if (match === null || status < 400 || status === CLIENT_CLOSED) continue
        const key = `${status} ${String(JSON.parse(match[2] ?? '""'))}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      if (counts.size === 0) return 'the gateway logged no answer of 400 or above in this round'
      const answers = [...counts].map(([key, count]) => `${count}× ${key}`)
      return `the gateway logged ${answers.join(', ')} in this round`
    },
  }
}

/**
 * A route of a Gatehouse gateway as a target. The headers are read before each round (the
 * phantom route's opaque token is re-issued during the run), and a failed round says what the
 * gateway logged for the requests it refused.
 */
export function gatewayTarget(
  name: string,
  gateway: GatewayChild,
  path: string,
  headers: () => Readonly<Record<string, string>>,
  beforeRound?: () => Promise<void>,
): HttpTarget {
  const accessLog = accessLogWatch(gateway.logFile)
  return {
    name,
    url: new URL(path, gateway.url),
    get headers() {
      return headers()
    },
    async beforeRound() {
      await beforeRound?.()
      await accessLog.mark()
    },
    explainFailure: () => accessLog.explain(),
  }
}
