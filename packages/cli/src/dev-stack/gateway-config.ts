import type { GatewayConfigInput } from '@gatehouse/gateway'
import { ECHO_AUDIENCE, ORDERS_AUDIENCE } from './demo.js'

export interface DevGatewayPlan {
  readonly port: number
  readonly adminPort: number
  readonly issuer: string
  readonly ca: string
  readonly serverCert: string
  readonly gatewayClientCert: string
  readonly ordersUrl: string
  readonly echoUrl: string
  /** The token handler's cookie settings, for the SPA's `cookie` route. */
  readonly spa: {
    readonly origin: string
    readonly apiPath: string
    readonly cookieNamePrefix: string
    readonly csrfHeaderName: string
    readonly cookieKeyId: string
  }
}

/** A route of the demo set as `dev.json` describes it (besides the gateway's own config). */
export interface DevRoute {
  readonly name: string
  readonly path: string
  readonly method: 'GET' | 'POST'
  readonly auth: 'jwt' | 'phantom' | 'split' | 'cookie' | 'public'
  readonly scope: string
  readonly audience: string
}

/** Every auth method of the gateway, in front of the orders API (mTLS) and the echo upstream. */
export const DEV_ROUTES: readonly DevRoute[] = [
  {
    name: 'orders-phantom',
    path: '/api/orders/ord-000001',
    method: 'GET',
    auth: 'phantom',
    scope: 'orders:read',
    audience: ORDERS_AUDIENCE,
  },
  {
    name: 'orders-jwt',
    path: '/internal/orders/ord-000001',
    method: 'GET',
    auth: 'jwt',
    scope: 'orders:read',
    audience: ORDERS_AUDIENCE,
  },
  {
    name: 'echo',
    path: '/echo/hello',
    method: 'GET',
    auth: 'phantom',
    scope: 'echo',
    audience: ECHO_AUDIENCE,
  },
  {
    name: 'echo-split',
    path: '/split/echo/hello',
    method: 'GET',
    auth: 'split',
    scope: 'echo',
    audience: ECHO_AUDIENCE,
  },
  {
    name: 'limited',
    path: '/limited/hello',
    method: 'GET',
    auth: 'phantom',
    scope: 'echo',
    audience: ECHO_AUDIENCE,
  },
  {
    name: 'spa-orders',
    path: '/spa/api/orders',
    method: 'GET',
    auth: 'cookie',
    scope: 'orders:read',
    audience: ORDERS_AUDIENCE,
  },
  { name: 'public', path: '/public/hello', method: 'GET', auth: 'public', scope: '', audience: '' },
]

const WRITE_SCOPES = { POST: ['orders:write'], PATCH: ['orders:write'], DELETE: ['orders:write'] }

/** The dev stack's gateway configuration (the same schema a YAML file would give). */
export function devGatewayConfig(plan: DevGatewayPlan): GatewayConfigInput {
  const issuerRef = 'gatehouse'
  return {
    listen: {
      host: '127.0.0.1',
      port: plan.port,
      tls: { cert: { pem: plan.serverCert }, key: { env: 'GATEHOUSE_TLS_KEY' } },
    },
    admin: { host: '127.0.0.1', port: plan.adminPort },
    tokenHandler: {
      cookies: { namePrefix: plan.spa.cookieNamePrefix, basePath: '', apiPath: plan.spa.apiPath },
      keys: [{ id: plan.spa.cookieKeyId, key: { env: 'GATEHOUSE_COOKIE_KEY' } }],
      currentKeyId: plan.spa.cookieKeyId,
      allowedOrigins: [plan.spa.origin],
      csrfHeaderName: plan.spa.csrfHeaderName,
    },
    issuers: {
      [issuerRef]: {
        issuer: plan.issuer,
        jwksUri: `${plan.issuer}/jwks`,
        ca: { pem: plan.ca },
        algorithms: ['ES256'],
        introspection: {
          endpoint: `${plan.issuer}/introspect`,
          clientId: 'gatehouse-gateway',
          clientSecret: { env: 'GATEHOUSE_GATEWAY_CLIENT_SECRET' },
        },
      },
    },
    upstreams: {
      orders: {
        url: plan.ordersUrl,
        ca: { pem: plan.ca },
        clientCertificate: {
          cert: { pem: plan.gatewayClientCert },
          key: { env: 'GATEHOUSE_GATEWAY_CLIENT_KEY' },
        },
      },
      echo: { url: plan.echoUrl, ca: { pem: plan.ca } },
    },
    routes: [
      {
        id: 'orders-phantom',
        match: { path: '/api/orders/**', methods: ['GET', 'POST', 'PATCH', 'DELETE'] },
        upstream: 'orders',
        auth: { method: 'phantom', issuer: issuerRef, audience: ORDERS_AUDIENCE },
        scopes: { GET: ['orders:read'], ...WRITE_SCOPES },
        contentTypes: ['application/json'],
        maxBodyBytes: 16_384,
        rateLimits: [{ name: 'orders-per-client', key: 'client', limit: 600, windowSeconds: 60 }],
        rewrite: { stripPrefix: '/api' },
      },
      {
        id: 'orders-jwt',
        match: { path: '/internal/orders/**', methods: ['GET', 'POST', 'PATCH', 'DELETE'] },
        upstream: 'orders',
        auth: { method: 'jwt', issuer: issuerRef, audience: ORDERS_AUDIENCE },
        scopes: { GET: ['orders:read'], ...WRITE_SCOPES },
        contentTypes: ['application/json'],
        maxBodyBytes: 16_384,
        rateLimits: [
          { name: 'internal-per-client', key: 'client', limit: 1200, windowSeconds: 60 },
        ],
        rewrite: { stripPrefix: '/internal' },
      },
      {
        id: 'echo',
        match: { path: '/echo/**', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
        upstream: 'echo',
        auth: { method: 'phantom', issuer: issuerRef, audience: ECHO_AUDIENCE },
        scopes: { GET: ['echo'], POST: ['echo'], PUT: ['echo'], PATCH: ['echo'], DELETE: ['echo'] },
        rateLimits: [{ name: 'echo-per-client', key: 'client', limit: 600, windowSeconds: 60 }],
      },
      {
        id: 'echo-split',
        match: { path: '/split/echo/**', methods: ['GET', 'POST'] },
        upstream: 'echo',
        auth: { method: 'split', issuer: issuerRef, audience: ECHO_AUDIENCE },
        scopes: { GET: ['echo'], POST: ['echo'] },
        rateLimits: [{ name: 'split-per-client', key: 'client', limit: 600, windowSeconds: 60 }],
        rewrite: { stripPrefix: '/split' },
      },
      {
        id: 'limited',
        match: { path: '/limited/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'phantom', issuer: issuerRef, audience: ECHO_AUDIENCE },
        scopes: { GET: ['echo'] },
        // A low demo limit: a few requests per 10 s per client, to see 429 and RateLimit headers.
        rateLimits: [{ name: 'limited-demo', key: 'client', limit: 3, windowSeconds: 10 }],
      },
      {
        // The SPA's calls: the token handler's encrypted cookie becomes a JWT for the orders API.
        id: 'spa-orders',
        match: {
          path: `${plan.spa.apiPath}/orders/**`,
          methods: ['GET', 'POST', 'PATCH', 'DELETE'],
        },
        upstream: 'orders',
        auth: { method: 'cookie', issuer: issuerRef, audience: ORDERS_AUDIENCE },
        // The SPA runs on its own origin: CORS for exactly that origin, with credentials.
        cors: {
          allowedOrigins: [plan.spa.origin],
          allowCredentials: true,
          allowHeaders: ['content-type', plan.spa.csrfHeaderName],
        },
        scopes: { GET: ['orders:read'], ...WRITE_SCOPES },
        contentTypes: ['application/json'],
        maxBodyBytes: 16_384,
        rateLimits: [{ name: 'spa-per-subject', key: 'subject', limit: 600, windowSeconds: 60 }],
        rewrite: { stripPrefix: plan.spa.apiPath },
      },
      {
        id: 'public',
        match: { path: '/public/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
        rateLimits: [{ name: 'public-per-ip', key: 'ip', limit: 120, windowSeconds: 60 }],
      },
    ],
    abuse: { enumeration: { windowSeconds: 60, threshold: 20, blockSeconds: 300 } },
  }
}
