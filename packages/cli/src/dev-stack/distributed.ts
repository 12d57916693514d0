import { randomBytes } from 'node:crypto'
import { relative } from 'node:path'
import {
  type AuthorizationServerStore,
  createAuthorizationServer,
  createClient,
  parseAuthorizationServerConfig,
  resolveSecrets,
  rotateClientSecret,
} from '@gatehouse/authorization-server'
import { createGateway, createRedisState, loadGatewayConfig } from '@gatehouse/gateway'
import pino from 'pino'
import { startRoundRobinFront } from '../runtime/round-robin-front.js'
import { describeState, openAuthorizationServerState, resolveState } from '../runtime/state.js'
import { describeStore, openStore, resolveStore } from '../runtime/store.js'
import { DEMO_SCOPES, ECHO_AUDIENCE } from './demo.js'
import { echoHandler } from './echo-upstream.js'
import { listenHttps, listenLater } from './listen.js'
import { createPrefixedOutput } from './logging.js'
import { waitUntilAnswering } from './readiness.js'
import { loadDevTls } from './tls.js'
import { openDevWorkspace, rememberSecrets } from './workspace.js'

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
/** The dev stack's own schema and key prefix: it never touches other data in those services. */
export const DEV_SCHEMA = 'gatehouse_dev'
export const DEV_KEY_PREFIX = 'gatehouse-dev:'
export const DISTRIBUTED_PORTS = { authorizationServer: 8443, gateway: 8444 } as const
export const DISTRIBUTED_PARTNER = 'distributed-partner'
const GATEWAY_CLIENT = 'distributed-gateway'

export interface DistributedStartOptions {
  readonly dir: string
  readonly ports: 'fixed' | 'free'
  /** Default: GATEHOUSE_POSTGRES_URL, else the local server; `?schema=` overrides gatehouse_dev. */
  readonly postgresUrl?: string
  /** Default: GATEHOUSE_REDIS_URL, else the local server; `?prefix=` overrides gatehouse-dev:. */
  readonly redisUrl?: string
  readonly out?: NodeJS.WritableStream
}

export interface RunningDistributedStack {
  /** The authorization servers' front: the one issuer both instances sign as. */
  readonly issuer: string
  /** The gateways' front. */
  readonly gatewayUrl: string
  readonly authorizationServerInstances: readonly string[]
  readonly gatewayInstances: readonly string[]
  readonly caCertFile: string
  /** The demo partner's client secret (client_credentials, opaque tokens, scope echo). */
  readonly partnerSecret: string
  close(): Promise<void>
}

/**
 * `gatehouse start --distributed`: two authorization servers on one PostgreSQL schema and two
 * gateways on one Redis, each pair behind a round-robin front, as behind a load balancer. Simpler
 * than the embedded stack on purpose: one demo client, an echo upstream and a phantom-token
 * route — no SPA, token handler or orders API (run `gatehouse start` for those).
 */
export async function startDistributedDevStack(
  options: DistributedStartOptions,
): Promise<RunningDistributedStack> {
  const out = options.out ?? process.stdout
  const output = createPrefixedOutput(out)
  const postgresUrl =
    options.postgresUrl ?? process.env.GATEHOUSE_POSTGRES_URL ?? DEFAULT_POSTGRES_URL
  const redisUrl = options.redisUrl ?? process.env.GATEHOUSE_REDIS_URL ?? DEFAULT_REDIS_URL
  const storeSettings = resolveStore(
    { driver: 'postgres', url: { env: 'URL' } },
    { env: { URL: withDefaultParameter(postgresUrl, 'schema', DEV_SCHEMA) }, baseDir: '.' },
  )
  const stateSettings = resolveState(
    { driver: 'redis', url: { env: 'URL' } },
    { env: { URL: withDefaultParameter(redisUrl, 'prefix', DEV_KEY_PREFIX) }, baseDir: '.' },
  )
  let workspace = await openDevWorkspace(options.dir)
  const tls = await loadDevTls(workspace.tlsDir)
  const serverTls = { cert: tls.server.cert, key: tls.server.key }
  const closers: (() => Promise<void>)[] = []
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {})
  }
  try {
    const asFrontPort = options.ports === 'fixed' ? DISTRIBUTED_PORTS.authorizationServer : 0
    // The instances listen first (their ports are the front's backends), then get their handlers.
    const asListeners = await Promise.all([0, 1].map(() => listenLater(serverTls, 0)))
    for (const listener of asListeners) closers.push(listener.close)
    const asFront = await startRoundRobinFront(
      asListeners.map((listener) => ({ host: '127.0.0.1', port: listener.port })),
      asFrontPort,
    )
    closers.push(asFront.close)
    const issuer = `https://localhost:${asFront.port}`
    const config = parseAuthorizationServerConfig({
      issuer,
      keys: { encryptionKey: { env: 'GATEHOUSE_KEY_ENCRYPTION_KEY' } },
      scopes: DEMO_SCOPES,
    })
    const secrets = resolveSecrets(config, {
      env: { GATEHOUSE_KEY_ENCRYPTION_KEY: workspace.secrets.keyEncryptionKey },
    })
    const stores: AuthorizationServerStore[] = []
    for (const [index, listener] of asListeners.entries()) {
      const log = pino(
        { base: { component: `authorization-server-${index + 1}` } },
        output.stream(`authorization-server-${index + 1}`),
      )
      const onError = (error: unknown) =>
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'internal error')
      // Sequential: the first instance migrates and creates the signing keys, the second loads them.
      const store = await openStore(storeSettings, { onError })
      closers.push(() => store.close())
      stores.push(store)
      const shared = await openAuthorizationServerState(stateSettings, onError)
      closers.push(() => shared.close())
      const server = await createAuthorizationServer(config, {
        store,
        secrets,
        onError,
        logger: log,
        ...(shared.revocations === undefined ? {} : { revocations: shared.revocations }),
        ...(shared.splitTokens === undefined ? {} : { splitTokens: shared.splitTokens }),
      }).catch((error: unknown) => {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)} (the signing keys in the PostgreSQL schema are encrypted with the key in ${workspace.root}/secrets.json: if that folder was removed, drop the schema too)`,
        )
      })
      closers.push(() => server.close())
      listener.install(server.handler)
    }
    const [firstStore] = stores
    if (firstStore === undefined) throw new Error('no authorization server instance started')
    const clientSecrets = await ensureDistributedClients(
      firstStore,
      workspace.secrets.clientSecrets,
    )
    workspace = await rememberSecrets(workspace, { clientSecrets })

    const echo = await listenHttps(echoHandler, serverTls, 0)
    closers.push(echo.close)
    const phantomEntryKey = randomBytes(32)
    const gatewayUrls: string[] = []
    const gatewayPorts: number[] = []
    for (const index of [1, 2]) {
      const log = pino(
        { base: { component: `gateway-${index}` } },
        output.stream(`gateway-${index}`),
      )
      const state = await createRedisState({
        url: stateSettings.driver === 'redis' ? stateSettings.url : redisUrl,
        keyPrefix: stateSettings.driver === 'redis' ? stateSettings.keyPrefix : DEV_KEY_PREFIX,
        logger: log,
        phantomEntryKey,
      })
      closers.push(() => state.close())
      const gateway = createGateway(
        loadGatewayConfig(
          distributedGatewayConfig(
            issuer,
            tls.ca,
            tls.server.cert,
            `https://localhost:${echo.port}`,
          ),
          {
            env: {
              GATEHOUSE_TLS_KEY: tls.server.key,
              GATEHOUSE_GATEWAY_CLIENT_SECRET:
                workspace.secrets.clientSecrets[GATEWAY_CLIENT] ?? '',
            },
          },
        ),
        { logger: log, state, adminListener: false },
      )
      const address = await gateway.listen()
      closers.push(() => gateway.close())
      gatewayUrls.push(address.url.replace('127.0.0.1', 'localhost'))
      gatewayPorts.push(Number(new URL(address.url).port))
    }
    const gatewayFront = await startRoundRobinFront(
      gatewayPorts.map((port) => ({ host: '127.0.0.1', port })),
      options.ports === 'fixed' ? DISTRIBUTED_PORTS.gateway : 0,
    )
    closers.push(gatewayFront.close)
    const gatewayUrl = `https://localhost:${gatewayFront.port}`
    await waitUntilAnswering(
      [`${issuer}/.well-known/openid-configuration`, `${gatewayUrl}/public/ready`],
      tls.ca,
    )
    const partnerSecret = workspace.secrets.clientSecrets[DISTRIBUTED_PARTNER] ?? ''
    const caFile = relative(process.cwd(), tls.caCertFile) || tls.caCertFile
    out.write(
      `${[
        '',
        'Gatehouse (distributed) is running: two authorization servers, two gateways.',
        '',
        `  authorization servers  ${issuer}  (round-robin front)`,
        ...asListeners.map(
          (listener) => `                         https://localhost:${listener.port}`,
        ),
        `  gateways               ${gatewayUrl}  (round-robin front)`,
        ...gatewayUrls.map((url) => `                         ${url}`),
        `  store                  ${describeStore(storeSettings)}`,
        `  shared state           ${describeState(stateSettings)}`,
        `  local CA certificate   ${caFile}`,
        `  demo client            ${DISTRIBUTED_PARTNER}  secret ${partnerSecret}`,
        '',
        '  try:',
        `    TOKEN=$(curl -s --cacert ${caFile} -u ${DISTRIBUTED_PARTNER}:${partnerSecret} \\`,
        `            -d grant_type=client_credentials -d scope=echo -d resource=${ECHO_AUDIENCE} ${issuer}/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')`,
        `    curl --cacert ${caFile} -H "Authorization: Bearer $TOKEN" ${gatewayUrl}/echo/hello`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n')}\n`,
    )
    return {
      issuer,
      gatewayUrl,
      authorizationServerInstances: asListeners.map(
        (listener) => `https://localhost:${listener.port}`,
      ),
      gatewayInstances: gatewayUrls,
      caCertFile: tls.caCertFile,
      partnerSecret,
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/** The URL with `name=value` added unless it names its own (`?schema=…`, `?prefix=…`). */
function withDefaultParameter(raw: string, name: string, value: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return raw // resolveStore / resolveState report it
  }
  if (!url.searchParams.has(name)) url.searchParams.set(name, value)
  return url.toString()
}

/** The demo partner and the gateways' introspection client, made once in the PostgreSQL schema. */
async function ensureDistributedClients(
  store: AuthorizationServerStore,
  remembered: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const wanted = [
    {
      clientId: DISTRIBUTED_PARTNER,
      name: 'Distributed demo partner (opaque tokens)',
      scopes: ['echo'],
      audiences: [ECHO_AUDIENCE],
    },
    {
      clientId: GATEWAY_CLIENT,
      name: 'Distributed gateways (introspection)',
      scopes: [],
      audiences: [],
    },
  ]
  const secrets: Record<string, string> = {}
  for (const client of wanted) {
    if ((await store.getClient(client.clientId)) === null) {
      const { clientSecret } = await createClient(store, client)
      if (clientSecret !== null) secrets[client.clientId] = clientSecret
    } else if (remembered[client.clientId] === undefined) {
      const clientSecret = await rotateClientSecret(store, client.clientId)
      if (clientSecret !== null) secrets[client.clientId] = clientSecret
    }
  }
  return secrets
}

function distributedGatewayConfig(issuer: string, ca: string, cert: string, echoUrl: string) {
  return {
    listen: {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: { pem: cert }, key: { env: 'GATEHOUSE_TLS_KEY' } },
    },
    issuers: {
      gatehouse: {
        issuer,
        jwksUri: `${issuer}/jwks`,
        ca: { pem: ca },
        introspection: {
          endpoint: `${issuer}/introspect`,
          clientId: GATEWAY_CLIENT,
          clientSecret: { env: 'GATEHOUSE_GATEWAY_CLIENT_SECRET' },
        },
      },
    },
    upstreams: { echo: { url: echoUrl, ca: { pem: ca } } },
    routes: [
      {
        id: 'echo',
        match: { path: '/echo/**', methods: ['GET', 'POST'] },
        upstream: 'echo',
        auth: { method: 'phantom', issuer: 'gatehouse', audience: ECHO_AUDIENCE },
        scopes: { GET: ['echo'], POST: ['echo'] },
      },
      {
        id: 'public',
        match: { path: '/public/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
      },
    ],
  }
}
