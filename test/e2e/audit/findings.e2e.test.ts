import { GatewayConfigSchema } from '@gatehouse/gateway'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Document } from 'yaml'
import { AUDIT_RULES } from '../../../packages/cli/src/audit/rules.js'
import { auditJson, cleanConfigWith, createWorkspace, ORDERS_OPENAPI } from './support.js'

/**
 * One configuration per rule: the clean configuration with exactly one practice broken must give
 * that rule's id and no other, at the key path where the problem is written.
 */
interface Case {
  readonly id: string
  readonly name: string
  readonly mutate: (doc: Document) => void
  readonly keyPath: string
  readonly openapi?: readonly string[]
  /** False when the gateway schema of this checkout lacks what the case needs. */
  readonly applies?: boolean
}

/** `gateway.tokenHandler` (cookie routes) and `gateway.cors` are newer gateway settings. */
const gatewayHasCookieRoutes = 'tokenHandler' in GatewayConfigSchema.shape
const gatewayHasCors = 'cors' in GatewayConfigSchema.shape.routes.element.shape

const cookieRoutes = (extra: { allowedOrigins?: string[]; domain?: string }) => (doc: Document) =>
  doc.setIn(['gateway', 'tokenHandler'], {
    cookies: {
      namePrefix: 'gatehouse',
      basePath: '/tokenhandler',
      apiPath: '/api',
      ...(extra.domain === undefined ? {} : { domain: extra.domain }),
    },
    keys: [{ id: 'k1', key: { env: 'GATEHOUSE_COOKIE_KEY' } }],
    currentKeyId: 'k1',
    allowedOrigins: extra.allowedOrigins ?? ['https://app.example.test'],
  })

const route = (extra: Record<string, unknown>) => ({
  match: { path: '/status', methods: ['GET'] },
  upstream: 'orders',
  ...extra,
})

const CASES: readonly Case[] = [
  {
    id: 'GH-ROUTE-001',
    name: 'a public read-only route',
    mutate: (doc) =>
      doc.addIn(['gateway', 'routes'], route({ id: 'status', auth: { method: 'public' } })),
    keyPath: 'gateway.routes[3].auth.method',
  },
  {
    id: 'GH-ROUTE-002',
    name: 'a public route that takes POST and DELETE',
    mutate: (doc) =>
      doc.addIn(['gateway', 'routes'], {
        ...route({ id: 'feedback', auth: { method: 'public' } }),
        match: { path: '/feedback', methods: ['GET', 'POST', 'DELETE'] },
      }),
    keyPath: 'gateway.routes[3].match.methods',
  },
  {
    id: 'GH-ROUTE-003',
    name: 'a jwt route whose path overlaps a phantom route for GET',
    mutate: (doc) =>
      doc.addIn(['gateway', 'routes'], {
        ...route({
          id: 'everything',
          auth: { method: 'jwt', issuer: 'main', audience: 'https://orders.example.test' },
          scopes: { GET: ['orders:read'] },
        }),
        match: { path: '/api/**', methods: ['GET'] },
      }),
    keyPath: 'gateway.routes[3].match.path',
  },
  {
    id: 'GH-ROUTE-003',
    name: 'two jwt routes for different audiences on overlapping paths',
    mutate: (doc) =>
      doc.addIn(['gateway', 'routes'], {
        ...route({
          id: 'internal-reports',
          auth: { method: 'jwt', issuer: 'main', audience: 'https://reports.example.test' },
          scopes: { GET: ['reports:read'] },
        }),
        match: { path: '/internal/*/report', methods: ['GET'] },
      }),
    keyPath: 'gateway.routes[3].match.path',
  },
  {
    id: 'GH-ROUTE-004',
    name: 'a POST route with no scope for POST',
    mutate: (doc) => doc.setIn(['gateway', 'routes', 1, 'scopes'], {}),
    keyPath: 'gateway.routes[1].scopes',
  },
  {
    id: 'GH-OPENAPI-001',
    name: 'an OpenAPI operation (PUT /orders/{orderId}) that no route forwards',
    mutate: (doc) => doc.setIn(['gateway', 'routes', 2, 'match', 'methods'], ['GET']),
    keyPath: 'paths./orders/{orderId}.put',
    openapi: [ORDERS_OPENAPI],
  },
  {
    id: 'GH-UPSTREAM-001',
    name: 'an upstream over plain http',
    mutate: (doc) =>
      doc.setIn(['gateway', 'upstreams', 'legacy'], {
        url: 'http://legacy.internal.test:8080',
        allowInsecureHttp: true,
      }),
    keyPath: 'gateway.upstreams.legacy.url',
  },
  {
    id: 'GH-UPSTREAM-002',
    name: 'an https upstream without a client certificate',
    mutate: (doc) => doc.deleteIn(['gateway', 'upstreams', 'orders', 'clientCertificate']),
    keyPath: 'gateway.upstreams.orders',
  },
  {
    id: 'GH-LIMIT-001',
    name: 'no global and no route rate limit',
    mutate: (doc) => doc.deleteIn(['gateway', 'rateLimits']),
    keyPath: 'gateway.routes[0].rateLimits',
  },
  {
    id: 'GH-ABUSE-001',
    name: 'the enumeration detector turned off',
    mutate: (doc) => doc.setIn(['gateway', 'abuse', 'enumeration', 'enabled'], false),
    keyPath: 'gateway.abuse.enumeration',
  },
  {
    id: 'GH-NET-001',
    name: 'every address trusted as a proxy',
    mutate: (doc) => doc.setIn(['gateway', 'trustedProxies'], ['10.0.0.0/8', '0.0.0.0/0']),
    keyPath: 'gateway.trustedProxies[1]',
  },
  {
    id: 'GH-NET-002',
    name: 'metrics on every interface',
    mutate: (doc) => doc.setIn(['gateway', 'admin', 'host'], '0.0.0.0'),
    keyPath: 'gateway.admin.host',
  },
  {
    id: 'GH-JWKS-001',
    name: 'the JWKS served with max-age 0',
    mutate: (doc) => doc.setIn(['authorizationServer', 'keys', 'jwksMaxAgeSeconds'], 0),
    keyPath: 'authorizationServer.keys.jwksMaxAgeSeconds',
  },
  {
    id: 'GH-JWKS-002',
    name: 'the JWKS cached for 30 s',
    mutate: (doc) => doc.setIn(['authorizationServer', 'keys', 'jwksMaxAgeSeconds'], 30),
    keyPath: 'authorizationServer.keys.jwksMaxAgeSeconds',
  },
  {
    id: 'GH-ALG-001',
    name: 'the gateway accepting RS256 from an ES256 issuer',
    mutate: (doc) => doc.setIn(['gateway', 'issuers', 'main', 'algorithms'], ['ES256', 'RS256']),
    keyPath: 'gateway.issuers.main.algorithms',
  },
  {
    id: 'GH-ALG-002',
    name: 'the authorization server signing with RS256',
    mutate: (doc) => {
      doc.setIn(['authorizationServer', 'keys', 'algorithm'], 'RS256')
      doc.setIn(['gateway', 'issuers', 'main', 'algorithms'], ['RS256'])
    },
    keyPath: 'authorizationServer.keys.algorithm',
  },
  {
    id: 'GH-ALG-002',
    name: 'the token handler signing client assertions with RS256',
    mutate: (doc) => doc.setIn(['tokenHandler', 'client', 'authentication', 'algorithm'], 'RS256'),
    keyPath: 'tokenHandler.client.authentication.algorithm',
  },
  {
    id: 'GH-TTL-001',
    name: 'access tokens living two hours',
    mutate: (doc) => doc.setIn(['authorizationServer', 'tokens', 'accessTokenTtlSeconds'], 7_200),
    keyPath: 'authorizationServer.tokens.accessTokenTtlSeconds',
  },
  {
    id: 'GH-TTL-001',
    name: 'one client given access tokens of a day',
    mutate: (doc) => doc.setIn(['clients', 1, 'accessTokenTtlSeconds'], 86_400),
    keyPath: 'clients[1].accessTokenTtlSeconds',
  },
  {
    id: 'GH-TTL-002',
    name: 'refresh tokens living 90 days',
    mutate: (doc) =>
      doc.setIn(['authorizationServer', 'tokens', 'refreshTokenTtlSeconds'], 90 * 86_400),
    keyPath: 'authorizationServer.tokens.refreshTokenTtlSeconds',
  },
  {
    id: 'GH-TTL-003',
    name: 'ID tokens living a day',
    mutate: (doc) => doc.setIn(['authorizationServer', 'tokens', 'idTokenTtlSeconds'], 86_400),
    keyPath: 'authorizationServer.tokens.idTokenTtlSeconds',
  },
  {
    id: 'GH-TTL-004',
    name: 'login sessions lasting a week',
    mutate: (doc) => doc.setIn(['authorizationServer', 'login', 'sessionTtlSeconds'], 7 * 86_400),
    keyPath: 'authorizationServer.login.sessionTtlSeconds',
  },
  {
    id: 'GH-KEYS-001',
    name: 'signing key rotation disabled',
    mutate: (doc) => doc.setIn(['authorizationServer', 'keys', 'rotation'], { enabled: false }),
    keyPath: 'authorizationServer.keys.rotation.enabled',
  },
  {
    id: 'GH-LOGIN-001',
    name: 'a lockout after 50 failed logins',
    mutate: (doc) => doc.setIn(['authorizationServer', 'login', 'maxFailedAttempts'], 50),
    keyPath: 'authorizationServer.login.maxFailedAttempts',
  },
  {
    id: 'GH-CLIENT-001',
    name: 'JWT access tokens for a third-party client',
    mutate: (doc) => doc.setIn(['clients', 0, 'tokenFormat'], 'jwt'),
    keyPath: 'clients[0].tokenFormat',
  },
  {
    id: 'GH-CLIENT-001',
    name: 'JWT access tokens for a first-party public (native) client',
    mutate: (doc) => {
      doc.setIn(['clients', 2, 'tokenFormat'], 'jwt')
      doc.setIn(['clients', 2, 'firstParty'], true)
    },
    keyPath: 'clients[2].tokenFormat',
  },
  {
    id: 'GH-CLIENT-002',
    name: 'token exchange for a third-party client',
    mutate: (doc) =>
      doc.setIn(
        ['clients', 0, 'grantTypes'],
        ['authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      ),
    keyPath: 'clients[0].grantTypes[1]',
  },
  {
    id: 'GH-SECRET-001',
    name: 'a client secret written in the file',
    mutate: (doc) =>
      doc.setIn(['clients', 0, 'clientSecret'], 'gcs_WrittenDownSecretValue0123456789abcdef'),
    keyPath: 'clients[0].clientSecret',
  },
  {
    id: 'GH-CORS-001',
    name: 'cookie routes accepting a plain-http origin',
    mutate: cookieRoutes({
      allowedOrigins: ['https://app.example.test', 'http://app.example.test'],
    }),
    keyPath: 'gateway.tokenHandler.allowedOrigins[1]',
    applies: gatewayHasCookieRoutes,
  },
  {
    id: 'GH-CORS-001',
    name: 'cookie routes accepting a wildcard origin',
    mutate: cookieRoutes({ allowedOrigins: ['https://*.example.test'] }),
    keyPath: 'gateway.tokenHandler.allowedOrigins[0]',
    applies: gatewayHasCookieRoutes,
  },
  {
    id: 'GH-CORS-001',
    name: 'a route allowing CORS from a plain-http origin',
    mutate: (doc) =>
      doc.setIn(['gateway', 'routes', 0, 'cors'], {
        allowedOrigins: ['https://app.example.test', 'http://partner.example.test'],
        allowCredentials: true,
      }),
    keyPath: 'gateway.routes[0].cors.allowedOrigins[1]',
    applies: gatewayHasCors,
  },
  {
    id: 'GH-COOKIE-001',
    name: 'cookie routes reading cookies shared with the whole domain',
    mutate: cookieRoutes({ domain: 'example.test' }),
    keyPath: 'gateway.tokenHandler.cookies.domain',
    applies: gatewayHasCookieRoutes,
  },
  {
    id: 'GH-COOKIE-001',
    name: 'token handler cookies shared with the whole domain',
    mutate: (doc) => doc.setIn(['tokenHandler', 'cookies', 'domain'], 'example.test'),
    keyPath: 'tokenHandler.cookies.domain',
  },
  {
    id: 'GH-PAR-001',
    name: 'the token handler without PAR',
    mutate: (doc) => doc.setIn(['tokenHandler', 'pushedAuthorizationRequests'], { enabled: false }),
    keyPath: 'tokenHandler.pushedAuthorizationRequests.enabled',
  },
]

let workspace: Awaited<ReturnType<typeof createWorkspace>>
beforeAll(async () => {
  workspace = await createWorkspace()
})
afterAll(() => workspace.remove())

describe('gatehouse audit: one finding per broken practice', () => {
  it('has a case for every rule of the registry', () => {
    expect(new Set(CASES.map((c) => c.id))).toEqual(new Set(AUDIT_RULES.map((rule) => rule.id)))
  })

  for (const testCase of CASES) {
    const { id } = testCase
    // Skipped (and reported as skipped) only while the gateway schema lacks the section.
    const test = testCase.applies === false ? it.skip : it
    test(`${id}: ${testCase.name}`, async () => {
      const file = await workspace.write(
        `${id}-${CASES.indexOf(testCase)}.yaml`,
        await cleanConfigWith(testCase.mutate),
      )
      const openapi = (testCase.openapi ?? []).flatMap((doc) => ['--openapi', doc])
      const report = await auditJson([file, ...openapi, '--fail-on', 'critical'])
      expect(new Set(report.findings.map((finding) => finding.id))).toEqual(new Set([id]))
      const finding = report.findings.find((f) => f.location.keyPath === testCase.keyPath)
      expect(finding, `no ${id} at ${testCase.keyPath}`).toBeDefined()
      expect(finding?.location.line).toBeGreaterThan(0)
      expect(finding?.location.column).toBeGreaterThan(0)
      expect(finding?.severity).toBe(AUDIT_RULES.find((rule) => rule.id === id)?.severity)
    })
  }
})
