import { isIP } from 'node:net'
import { z } from 'zod'

/**
 * The gateway's slice of the Gatehouse configuration. One schema gives the types, the validation
 * (unknown keys are errors everywhere: strict objects) and, through `z.toJSONSchema`, the docs.
 * Secrets are references (`{ env }` or `{ file }`), never values; certificates may be inline PEM.
 */

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
export const HttpMethod = z.enum(HTTP_METHODS)
export type HttpMethod = z.infer<typeof HttpMethod>

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'use lowercase letters, digits, ".", "_" or "-"')

/** A secret: read from the environment or a file at load, never written in the config itself. */
export const SecretRef = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }),
  z.strictObject({ file: z.string().min(1) }),
])
export type SecretRef = z.infer<typeof SecretRef>

/** Public material (certificates, CA bundles): a secret reference or inline PEM. */
export const PemRef = z.union([SecretRef, z.strictObject({ pem: z.string().min(1) })])
export type PemRef = z.infer<typeof PemRef>

const Port = z.int().min(0).max(65535)
const Host = z.string().min(1)
const HttpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' })

const Cidr = z.string().refine(isIpOrCidr, 'must be an IP address or CIDR (e.g. 10.0.0.0/8)')

export const RateLimitPolicy = z.strictObject({
  /** Names the policy in RateLimit headers, logs and metrics. */
  name: Name,
  /** What one bucket belongs to. */
  key: z.enum(['client', 'subject', 'ip', 'route']),
  /** Requests allowed per window (the bucket's capacity). */
  limit: z.int().min(1),
  /** The window over which `limit` refills, in seconds. */
  windowSeconds: z.int().min(1).max(86_400),
})
export type RateLimitPolicy = z.infer<typeof RateLimitPolicy>

const Timeouts = z.strictObject({
  connectMs: z.int().min(1).default(5_000),
  /** Time to the upstream's response headers. */
  responseMs: z.int().min(1).default(30_000),
})

export const Upstream = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Plain http to an upstream must be asked for by name: tokens would cross the network in clear. */
  allowInsecureHttp: z.boolean().default(false),
  /** CA bundle to verify the upstream's certificate with (else the system store). */
  ca: PemRef.optional(),
  /** mTLS: the gateway's client certificate for this upstream. */
  clientCertificate: z.strictObject({ cert: PemRef, key: SecretRef }).optional(),
  timeouts: Timeouts.prefault({}),
  /** Keep-alive sockets per upstream. */
  maxSockets: z.int().min(1).max(10_000).default(128),
})
export type Upstream = z.infer<typeof Upstream>

export const Issuer = z.strictObject({
  /** `iss` as the authorization server writes it. */
  issuer: z.url(),
  jwksUri: HttpsUrl,
  /** CA to verify the authorization server's TLS certificate (JWKS, introspection). */
  ca: PemRef.optional(),
  algorithms: z
    .array(z.enum(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']))
    .min(1)
    .default(['ES256']),
  clockToleranceSeconds: z.int().min(0).max(300).default(30),
  /** Where `phantom` routes introspect, and the gateway's own client credentials (client_secret_basic). */
  introspection: z
    .strictObject({
      endpoint: HttpsUrl,
      clientId: z.string().min(1),
      clientSecret: SecretRef,
      timeoutMs: z.int().min(1).default(3_000),
    })
    .optional(),
  /** The authorization server's authorization_servers entry in resource metadata (default: issuer). */
  authorizationServer: z.url().optional(),
})
export type Issuer = z.infer<typeof Issuer>

const TokenAuth = {
  issuer: Name,
  /** This API's identifier: `aud` must contain it. Also the RFC 9728 `resource`. */
  audience: z.string().min(1),
}

export const AuthMethod = z.discriminatedUnion(
  'method',
  [
    z.strictObject({ method: z.literal('jwt'), ...TokenAuth }),
    z.strictObject({
      method: z.literal('phantom'),
      ...TokenAuth,
      /** Upper bound on how long an introspected JWT is cached (never past its `exp`). */
      cacheMaxSeconds: z.int().min(0).max(3_600).default(300),
    }),
    z.strictObject({ method: z.literal('split'), ...TokenAuth }),
    /** The token handler's encrypted access-token cookie, then the phantom step (issue 5). */
    z.strictObject({
      method: z.literal('cookie'),
      ...TokenAuth,
      cacheMaxSeconds: z.int().min(0).max(3_600).default(300),
    }),
    z.strictObject({ method: z.literal('public') }),
  ],
  {
    error: (issue) =>
      issue.input === undefined
        ? 'required: every route names exactly one auth method (jwt, phantom, split, cookie or public)'
        : 'must be one of jwt, phantom, split, cookie or public (public must be written out)',
  },
)
export type AuthMethod = z.infer<typeof AuthMethod>

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a header name')
const AbsolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/, 'an absolute path of unreserved characters')

export const Route = z.strictObject({
  id: Name,
  match: z.strictObject({
    /** Exact Host (no port), lowercase; any host when absent. */
    host: Host.optional(),
    /** `/orders` (exact), `/orders/*` (one segment), `/orders/**` (the prefix and everything below). */
    path: z
      .string()
      .regex(
        /^\/([A-Za-z0-9._~!$&'()+,;=:@-]+|\*|\*\*)?(\/([A-Za-z0-9._~!$&'()+,;=:@-]+|\*|\*\*))*$/,
        'a path of literal segments, "*" (one segment) or a final "**"',
      )
      .refine((path) => !/\*\*./.test(path), '"**" may only end the path'),
    methods: z.array(HttpMethod).min(1),
  }),
  upstream: Name,
  /** Exactly one authentication method; `public` must be written out. */
  auth: AuthMethod,
  /** Required scopes per method (all must be present). */
  scopes: z.partialRecord(HttpMethod, z.array(z.string().min(1)).min(1)).default({}),
  /** Accepted request media types (type/subtype, no parameters); requests with a body must send one. */
  contentTypes: z.array(z.string().regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/)).optional(),
  maxBodyBytes: z.int().min(0).default(1_048_576),
  /** CORS for browsers on other origins (e.g. the SPA on a cookie route). Exact origins only. */
  cors: z
    .strictObject({
      allowedOrigins: z.array(z.url()).min(1),
      allowCredentials: z.boolean().default(false),
      allowHeaders: z.array(HeaderName).default(['content-type', 'x-csrf-token']),
      exposeHeaders: z.array(HeaderName).default(['x-request-id']),
      maxAgeSeconds: z.int().min(0).max(86_400).default(600),
    })
    .optional(),
  /** Query parameters this API takes; others count for the `unexpectedParams` detector, or are refused. */
  queryParams: z
    .strictObject({
      allow: z.array(z.string().min(1)),
      refuseUnexpected: z.boolean().default(false),
    })
    .optional(),
  rateLimits: z.array(RateLimitPolicy).default([]),
  rewrite: z
    .strictObject({
      /** Replace this leading part of the normalised path… */
      stripPrefix: AbsolutePath.optional(),
      /** …then put this in front. */
      addPrefix: AbsolutePath.optional(),
      setHeaders: z.record(HeaderName, z.string().regex(/^[\t\x20-\x7e]*$/)).default({}),
      removeHeaders: z.array(HeaderName).default([]),
    })
    .prefault({}),
})
export type Route = z.infer<typeof Route>

const AbuseDetector = z.strictObject({
  enabled: z.boolean().default(true),
  windowSeconds: z.int().min(1).max(3_600).default(60),
  threshold: z.int().min(2),
  /** Block the offender for this long when the detector fires (0: alert only). */
  blockSeconds: z.int().min(0).max(86_400).default(0),
})

export const GatewayConfigObject = z.strictObject({
  listen: z.strictObject({
    host: Host.default('127.0.0.1'),
    port: Port.default(8443),
    /** The public name clients use, for resource metadata (https://host[:port]). */
    publicUrl: HttpsUrl.optional(),
    tls: z.strictObject({
      cert: PemRef,
      key: SecretRef,
      minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    }),
    limits: z
      .strictObject({
        maxHeaderCount: z.int().min(8).max(1_000).default(100),
        maxHeaderBytes: z.int().min(1_024).max(65_536).default(16_384),
        maxPathBytes: z.int().min(16).max(16_384).default(2_048),
        /** Whole request, headers and body (node's requestTimeout). */
        requestTimeoutMs: z.int().min(100).default(30_000),
        /** Headers must arrive within this (slowloris). */
        headersTimeoutMs: z.int().min(100).default(10_000),
        keepAliveTimeoutMs: z.int().min(100).default(5_000),
      })
      .prefault({}),
  }),
  /** Metrics (Prometheus) on a separate, plain-http admin port, loopback by default. */
  admin: z.strictObject({ host: Host.default('127.0.0.1'), port: Port.default(9464) }).optional(),
  /** The token handler's cookies, for `cookie` routes: names, paths, keys and allowed origins. */
  tokenHandler: z
    .strictObject({
      cookies: z.strictObject({
        namePrefix: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
        domain: z.string().min(1).optional(),
        /** The token handler's path prefix ('' at the root). */
        basePath: z.string().regex(/^(\/[A-Za-z0-9._~-]+)*$/),
        /** The path the access-token cookie is sent to (the APIs behind the gateway). */
        apiPath: AbsolutePath,
      }),
      /** AES-256-GCM keys (32 bytes, base64) the token handler seals cookies with. */
      keys: z.array(z.strictObject({ id: z.string().min(1), key: SecretRef })).min(1),
      currentKeyId: z.string().min(1),
      /** Exact origins allowed on state-changing requests. */
      allowedOrigins: z.array(z.url()).min(1),
      csrfHeaderName: HeaderName.default('x-csrf-token'),
    })
    .optional(),
  /** How request paths are read. `;` path parameters are refused unless allowed here. */
  paths: z.strictObject({ allowParameters: z.boolean().default(false) }).prefault({}),
  /** Peers allowed to set X-Forwarded-For / Forwarded / X-Request-Id. */
  trustedProxies: z.array(Cidr).default([]),
  issuers: z.record(Name, Issuer).default({}),
  upstreams: z.record(Name, Upstream),
  routes: z.array(Route).min(1),
  /** Global limits, applied to every route before the route's own. */
  rateLimits: z.array(RateLimitPolicy).default([]),
  blockList: z
    .strictObject({
      ips: z.array(Cidr).default([]),
      clientIds: z.array(z.string().min(1)).default([]),
      subjects: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  phantomCache: z
    .strictObject({
      maxEntries: z.int().min(1).default(100_000),
      negativeSeconds: z.int().min(0).max(60).default(5),
    })
    .prefault({}),
  verifiedTokenCache: z.strictObject({ maxEntries: z.int().min(1).default(100_000) }).prefault({}),
  abuse: z
    .strictObject({
      enumeration: AbuseDetector.optional(),
      clientsPerIp: AbuseDetector.optional(),
      clientsPerSubject: AbuseDetector.optional(),
      unexpectedParams: AbuseDetector.optional(),
      unexpectedHeaders: AbuseDetector.extend({
        allowHeaders: z.array(HeaderName).default([]),
      }).optional(),
    })
    .prefault({}),
})

export const GatewayConfigSchema = GatewayConfigObject.superRefine(checkCrossReferences)
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>
export type GatewayConfigParsed = z.infer<typeof GatewayConfigSchema>

/** Cross-field rules (Kong's entity_checks): refs resolve, unsafe combinations are refused. */
function checkCrossReferences(
  config: z.infer<typeof GatewayConfigObject>,
  ctx: z.RefinementCtx,
): void {
  const ids = new Set<string>()
  config.routes.forEach((route, index) => {
    const at = (...rest: (string | number)[]) => ['routes', index, ...rest]
    if (ids.has(route.id))
      ctx.addIssue({ code: 'custom', path: at('id'), message: `duplicate route id "${route.id}"` })
    ids.add(route.id)
    if (config.upstreams[route.upstream] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('upstream'),
        message: `unknown upstream "${route.upstream}"`,
      })
    }
    const auth = route.auth
    if (auth.method === 'public') {
      if (Object.keys(route.scopes).length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: at('scopes'),
          message: 'a public route cannot require scopes',
        })
      }
      return
    }
    const issuer = config.issuers[auth.issuer]
    if (issuer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('auth', 'issuer'),
        message: `unknown issuer "${auth.issuer}"`,
      })
    } else if (
      (auth.method === 'phantom' || auth.method === 'cookie') &&
      issuer.introspection === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: at('auth', 'method'),
        message: `a ${auth.method} route needs issuers.${auth.issuer}.introspection (the gateway's introspection client)`,
      })
    }
    if (auth.method === 'cookie' && config.tokenHandler === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: at('auth', 'method'),
        message: 'a cookie route needs the tokenHandler section',
      })
    }
  })
  const tokenHandler = config.tokenHandler
  if (
    tokenHandler !== undefined &&
    !tokenHandler.keys.some((key) => key.id === tokenHandler.currentKeyId)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['tokenHandler', 'currentKeyId'],
      message: `no key with id "${tokenHandler.currentKeyId}" in tokenHandler.keys`,
    })
  }
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    if (upstream.url.startsWith('http:') && !upstream.allowInsecureHttp) {
      ctx.addIssue({
        code: 'custom',
        path: ['upstreams', name, 'url'],
        message: 'plain http upstream refused: use https, or set allowInsecureHttp: true knowingly',
      })
    }
    if (upstream.url.startsWith('http:') && upstream.clientCertificate !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['upstreams', name, 'clientCertificate'],
        message: 'mTLS needs an https upstream',
      })
    }
  }
}

function isIpOrCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/')
  if (extra !== undefined || address === undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}
