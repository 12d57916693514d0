import { type AuditEvent, createAuditBus } from '@gatehouse/audit'
import {
  createGateway,
  type Gateway,
  type GatewayConfigInput,
  type GatewayState,
  loadGatewayConfig,
} from '@gatehouse/gateway'
import pino from 'pino'
import { type EchoUpstream, startEchoUpstream } from './echo-upstream.js'
import { createTestPki, type TestPki } from './pki.js'
import { INTROSPECTION_CLIENT, startTokenIssuer, type TokenIssuer } from './token-issuer.js'

export const ORDERS_API = 'https://api.test/orders'
export const BILLING_API = 'https://api.test/billing'

export interface GatewayStack {
  readonly pki: TestPki
  readonly ca: string
  readonly upstream: EchoUpstream
  readonly mtlsUpstream: EchoUpstream
  readonly issuer: TokenIssuer
  readonly gateway: Gateway
  readonly url: string
  readonly port: number
  readonly adminUrl: string
  /** Access-log lines written so far (parsed). */
  readonly logs: Record<string, unknown>[]
  /** Raw log output, to search for leaked secrets. */
  readonly rawLogs: string[]
  readonly auditEvents: AuditEvent[]
  readonly env: Record<string, string>
  /** The configuration object the gateway was loaded from (tests derive reload variants from it). */
  readonly config: GatewayConfigInput
  close(): Promise<void>
}

export type ConfigTweak = (
  config: GatewayConfigInput,
  stack: { upstream: string; mtlsUpstream: string },
) => void

/**
 * The e2e stack: a dev CA, an HTTPS echo upstream (and an mTLS one), a local JWKS issuer, and the
 * gateway over HTTPS in front of them, with a route for each behaviour under test.
 */
export async function startGatewayStack(
  tweak?: ConfigTweak,
  extraEnv: Readonly<Record<string, string>> = {},
  state?: GatewayState,
): Promise<GatewayStack> {
  const pki = await createTestPki()
  const [upstream, mtlsUpstream, issuer] = await Promise.all([
    startEchoUpstream(pki),
    startEchoUpstream(pki, { mtls: true }),
    startTokenIssuer(pki, ORDERS_API),
  ])
  const env = {
    GATEWAY_TLS_KEY: pki.server.key,
    GATEWAY_CLIENT_KEY: pki.gatewayClient.key,
    GATEWAY_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret,
    ...extraEnv,
  }
  const jwt = (audience = ORDERS_API) => ({ method: 'jwt' as const, issuer: 'local', audience })
  const config: GatewayConfigInput = {
    listen: {
      host: '127.0.0.1',
      port: 0,
      tls: { cert: { pem: pki.server.cert }, key: { env: 'GATEWAY_TLS_KEY' } },
      limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxHeaderCount: 40 },
    },
    admin: { host: '127.0.0.1', port: 0 },
    issuers: {
      local: {
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        ca: { pem: pki.ca.cert },
        introspection: {
          endpoint: issuer.introspectionEndpoint,
          clientId: INTROSPECTION_CLIENT.id,
          clientSecret: { env: 'GATEWAY_INTROSPECTION_SECRET' },
          timeoutMs: 500,
        },
      },
    },
    upstreams: {
      echo: { url: upstream.url, ca: { pem: pki.ca.cert } },
      'echo-mtls': {
        url: mtlsUpstream.url,
        ca: { pem: pki.ca.cert },
        clientCertificate: {
          cert: { pem: pki.gatewayClient.cert },
          key: { env: 'GATEWAY_CLIENT_KEY' },
        },
      },
      'echo-no-client-cert': { url: mtlsUpstream.url, ca: { pem: pki.ca.cert } },
      'echo-unknown-ca': { url: upstream.url },
      impatient: { url: upstream.url, ca: { pem: pki.ca.cert }, timeouts: { responseMs: 300 } },
      down: { url: 'https://127.0.0.1:1', ca: { pem: pki.ca.cert } },
    },
    routes: [
      {
        id: 'public',
        match: { path: '/public/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
      },
      {
        id: 'orders',
        match: { path: '/orders/**', methods: ['GET', 'POST'] },
        upstream: 'echo',
        auth: jwt(),
        scopes: { GET: ['orders:read'], POST: ['orders:write'] },
        contentTypes: ['application/json'],
        maxBodyBytes: 1_024,
      },
      {
        id: 'admin',
        match: { path: '/admin/**', methods: ['GET'] },
        upstream: 'echo',
        auth: jwt(),
        scopes: { GET: ['admin'] },
      },
      {
        id: 'billing',
        match: { path: '/billing/**', methods: ['GET'] },
        upstream: 'echo',
        auth: jwt(BILLING_API),
      },
      {
        id: 'limited',
        match: { path: '/limited/**', methods: ['GET'] },
        upstream: 'echo',
        auth: jwt(),
        rateLimits: [{ name: 'per-client', key: 'client', limit: 3, windowSeconds: 60 }],
      },
      {
        id: 'ip-limited',
        match: { path: '/ip-limited/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
        rateLimits: [{ name: 'per-ip', key: 'ip', limit: 2, windowSeconds: 60 }],
      },
      {
        id: 'rewrite',
        match: { path: '/v1/things/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
        rewrite: {
          stripPrefix: '/v1',
          addPrefix: '/api',
          setHeaders: { 'X-Api-Version': '1' },
          removeHeaders: ['x-debug'],
        },
      },
      {
        id: 'mtls',
        match: { path: '/mtls/**', methods: ['GET'] },
        upstream: 'echo-mtls',
        auth: { method: 'public' },
      },
      {
        id: 'mtls-missing',
        match: { path: '/mtls-missing/**', methods: ['GET'] },
        upstream: 'echo-no-client-cert',
        auth: { method: 'public' },
      },
      {
        id: 'unknown-ca',
        match: { path: '/unknown-ca/**', methods: ['GET'] },
        upstream: 'echo-unknown-ca',
        auth: { method: 'public' },
      },
      {
        id: 'impatient',
        match: { path: '/impatient/**', methods: ['GET'] },
        upstream: 'impatient',
        auth: { method: 'public' },
      },
      {
        id: 'down',
        match: { path: '/down/**', methods: ['GET'] },
        upstream: 'down',
        auth: { method: 'public' },
      },
      {
        id: 'phantom-orders',
        match: { path: '/phantom/orders/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'phantom', issuer: 'local', audience: ORDERS_API },
        scopes: { GET: ['orders:read'] },
      },
      {
        id: 'phantom-billing',
        match: { path: '/phantom/billing/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'phantom', issuer: 'local', audience: BILLING_API },
      },
      {
        id: 'split-orders',
        match: { path: '/split/orders/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'split', issuer: 'local', audience: ORDERS_API },
        scopes: { GET: ['orders:read'] },
      },
      {
        id: 'upload',
        match: { path: '/upload/**', methods: ['POST'] },
        upstream: 'echo',
        auth: { method: 'public' },
        maxBodyBytes: 100_000,
      },
    ],
  }
  tweak?.(config, { upstream: upstream.url, mtlsUpstream: mtlsUpstream.url })
  const rawLogs: string[] = []
  const logs: Record<string, unknown>[] = []
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        rawLogs.push(line)
        logs.push(JSON.parse(line) as Record<string, unknown>)
      },
    },
  )
  const audit = createAuditBus()
  const auditEvents: AuditEvent[] = []
  audit.subscribe({ write: (event) => void auditEvents.push(event) })
  const gateway = createGateway(loadGatewayConfig(config, { env }), {
    logger,
    audit,
    ...(state === undefined ? {} : { state }),
  })
  const address = await gateway.listen()
  return {
    pki,
    ca: pki.ca.cert,
    upstream,
    mtlsUpstream,
    issuer,
    gateway,
    url: address.url,
    port: Number(new URL(address.url).port),
    adminUrl: address.adminUrl ?? '',
    logs,
    rawLogs,
    auditEvents,
    env,
    config,
    async close() {
      await gateway.close()
      await Promise.all([upstream.close(), mtlsUpstream.close(), issuer.close()])
    },
  }
}
