/**
 * The distributed layout on loopback: two authorization server instances sharing one PostgreSQL
 * schema, the Redis revocation bus and the Redis split-token store, and two gateway instances on
 * the Redis state — each gateway introspecting through its own authorization server instance, as
 * behind a load balancer. Every run has its own schema and key prefix, dropped afterwards.
 */
import { randomBytes } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  type AuthorizationServer,
  type AuthorizationServerStore,
  type ClientInput,
  createAuthorizationServer,
  createClient,
  createKeyEncryption,
  createPostgresStore,
  createRedisRevocationBus,
  createRedisSplitTokenStore,
  createUser,
  parseAuthorizationServerConfig,
  type RedisRevocationBus,
  type RedisSplitTokenStore,
  type UserInput,
} from '@gatehouse/authorization-server'
import {
  createGateway,
  createRedisState,
  type Gateway,
  type GatewayConfigInput,
  loadGatewayConfig,
  type RedisGatewayState,
  type RedisStateOptions,
} from '@gatehouse/gateway'
import { Redis } from 'ioredis'
import pg from 'pg'
import pino from 'pino'
import { Agent, fetch as undiciFetch } from 'undici'
import { type EchoUpstream, startEchoUpstream } from '../../gateway/support/echo-upstream.js'
import { createTestPki, type TestPki } from '../../gateway/support/pki.js'
import { postgresUrl } from './services.js'

export const ORDERS_API = 'https://api.gatehouse.test/orders'
const SCOPES = {
  'orders:read': { description: 'Read your orders', claims: ['customer_id'] },
  openid: {},
}

export interface AuthorizationServerInstance {
  readonly url: string
  readonly server: AuthorizationServer
  readonly store: AuthorizationServerStore
  readonly bus: RedisRevocationBus
  readonly splitTokens: RedisSplitTokenStore
}

export interface GatewayInstance {
  readonly url: string
  readonly gateway: Gateway
  readonly state: RedisGatewayState
}

export interface DistributedStack {
  /** The one issuer both instances sign as (the load balancer's name in production). */
  readonly issuer: string
  readonly authorizationServers: readonly [AuthorizationServerInstance, AuthorizationServerInstance]
  readonly gateways: readonly [GatewayInstance, GatewayInstance]
  readonly pki: TestPki
  readonly upstream: EchoUpstream
  readonly clientSecrets: ReadonlyMap<string, string | null>
  /** A fetch that trusts the dev CA. */
  readonly fetch: typeof fetch
  close(): Promise<void>
}

export interface DistributedStackOptions {
  readonly redisUrl: string
  readonly clients: readonly (ClientInput & { clientId: string })[]
  readonly users?: readonly UserInput[]
  /** Gateway routes; `as` is the issuer name to use in their `auth`. */
  readonly routes: GatewayConfigInput['routes']
  readonly state?: Partial<RedisStateOptions>
}

const silent = pino({ level: 'silent' })

export async function startDistributedStack(
  options: DistributedStackOptions,
): Promise<DistributedStack> {
  const schema = `gh_e2e_${randomBytes(6).toString('hex')}`
  const keyPrefix = `gatehouse-e2e:${randomBytes(6).toString('hex')}:`
  const pki = await createTestPki()
  const keyEncryptionKey = randomBytes(32)
  // Shared by the gateways: phantom-cache entries travel through Redis encrypted.
  const phantomEntryKey = randomBytes(32)
  const upstream = await startEchoUpstream(pki)
  const closers: (() => Promise<void>)[] = [() => upstream.close()]

  // Both HTTPS listeners first: the issuer is instance A's address, shared by B.
  const listeners = await Promise.all([0, 1].map(() => listen(pki)))
  const issuer = listeners[0]?.url ?? ''
  const instances: AuthorizationServerInstance[] = []
  for (const listener of listeners) {
    const store = await createPostgresStore({ url: postgresUrl, schema, maxConnections: 4 })
    const bus = await createRedisRevocationBus({ url: options.redisUrl, keyPrefix })
    const splitTokens = await createRedisSplitTokenStore({ url: options.redisUrl, keyPrefix })
    const config = parseAuthorizationServerConfig({
      issuer,
      scopes: SCOPES,
      keys: { encryptionKey: { env: 'UNUSED' } },
      tokens: { accessTokenTtlSeconds: 300 },
    })
    // Sequential start: the first instance creates the signing key in PostgreSQL, the second loads it.
    const server = await createAuthorizationServer(config, {
      store,
      secrets: { keyEncryptionKey },
      revocations: bus,
      splitTokens,
      maintenance: false,
    })
    listener.serve(server)
    instances.push({ url: listener.url, server, store, bus, splitTokens })
    closers.push(async () => {
      await server.close()
      await listener.close()
      await Promise.all([store.close(), bus.close(), splitTokens.close()])
    })
  }
  const [asA, asB] = instances as [AuthorizationServerInstance, AuthorizationServerInstance]

  const clientSecrets = new Map<string, string | null>()
  for (const input of options.clients) {
    const { clientSecret } = await createClient(asA.store, input, { now: Date.now() })
    clientSecrets.set(input.clientId, clientSecret)
  }
  const encryption = createKeyEncryption(keyEncryptionKey)
  for (const input of options.users ?? []) {
    await createUser(asA.store, encryption, input, { now: Date.now() })
  }

  const gateways: GatewayInstance[] = []
  for (const instance of instances) {
    const state = await createRedisState({
      url: options.redisUrl,
      keyPrefix,
      logger: silent,
      phantomEntryKey,
      ...options.state,
    })
    const config: GatewayConfigInput = {
      listen: {
        host: '127.0.0.1',
        port: 0,
        tls: { cert: { pem: pki.server.cert }, key: { env: 'GATEWAY_TLS_KEY' } },
      },
      issuers: {
        as: {
          issuer,
          jwksUri: `${instance.url}/jwks`,
          ca: { pem: pki.ca.cert },
          algorithms: ['ES256'],
          introspection: {
            endpoint: `${instance.url}/introspect`,
            clientId: 'gateway',
            clientSecret: { env: 'GATEWAY_INTROSPECTION_SECRET' },
            timeoutMs: 2_000,
          },
        },
      },
      upstreams: { echo: { url: upstream.url, ca: { pem: pki.ca.cert } } },
      routes: options.routes,
    }
    const env = {
      GATEWAY_TLS_KEY: pki.server.key,
      GATEWAY_INTROSPECTION_SECRET: clientSecrets.get('gateway') ?? '',
    }
    const gateway = createGateway(loadGatewayConfig(config, { env }), { state, logger: silent })
    const address = await gateway.listen()
    gateways.push({ url: address.url, gateway, state })
    closers.push(async () => {
      await gateway.close()
      await state.close()
    })
  }

  const agent = new Agent({ connect: { ca: pki.ca.cert } })
  const trustingFetch = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, {
      ...(init as Record<string, unknown>),
      dispatcher: agent,
    })) as unknown as typeof fetch
  closers.push(() => agent.close())

  return {
    issuer,
    authorizationServers: [asA, asB],
    gateways: gateways as [GatewayInstance, GatewayInstance],
    pki,
    upstream,
    clientSecrets,
    fetch: trustingFetch,
    async close() {
      for (const close of closers.reverse()) await close()
      await dropSchema(schema)
      await deleteKeys(options.redisUrl, keyPrefix)
    },
  }
}

async function listen(pki: TestPki): Promise<{
  url: string
  serve(server: AuthorizationServer): void
  close(): Promise<void>
}> {
  let app: AuthorizationServer | null = null
  const server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    if (app === null) res.writeHead(503).end()
    else app.handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve(next) {
      app = next
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)
  } finally {
    await client.end()
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const client = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null })
  client.on('error', () => undefined)
  try {
    await client.connect()
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
  } catch {
    // The outage test's own Redis may be gone already; nothing to clean there.
  } finally {
    client.disconnect()
  }
}
