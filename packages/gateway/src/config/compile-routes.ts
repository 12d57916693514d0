import type { AuditBus } from '@gatehouse/audit'
import {
  createJwtValidator,
  createRemoteJwks,
  type JwtValidator,
  type KeySet,
} from '@gatehouse/jwt'
import { type CookieTokenReader, createCookieTokenReader } from '@gatehouse/token-handler'
import type { GatewayMetrics } from '../metrics.js'
import { createCookieAuthenticator } from '../pipeline/authenticate/cookie.js'
import { createJwtAuthenticator } from '../pipeline/authenticate/jwt.js'
import {
  createIntrospectionClient,
  createPhantomAuthenticator,
  type IntrospectionClient,
} from '../pipeline/authenticate/phantom.js'
import { createPublicAuthenticator } from '../pipeline/authenticate/public.js'
import { createSplitAuthenticator } from '../pipeline/authenticate/split.js'
import { createAuthorizer, createParamCheck } from '../pipeline/authorize.js'
import { createCors } from '../pipeline/cors.js'
import { createUpstreamClient, type UpstreamClient } from '../pipeline/forward.js'
import { createLimiter } from '../pipeline/limit.js'
import { compilePathPattern, type RouteMatcher, type RouteTable } from '../pipeline/match.js'
import { createTransformer } from '../pipeline/transform.js'
import type { CompiledRoute, MatchedRequest, Principal } from '../pipeline/types.js'
import type { GatewayState } from '../state/types.js'
import type { GatewayConfig } from './load.js'
import type { Route } from './schema.js'

export interface CompileDeps {
  readonly state: GatewayState
  readonly metrics: GatewayMetrics
  readonly audit: AuditBus
  /** The gateway's public origin (https://host[:port]), for resource metadata URLs. */
  readonly publicUrl: string
  readonly now?: () => number
}

export interface CompiledGateway {
  readonly table: RouteTable
  /** Releases upstream pools and subscriptions of this compilation (after a reload drains). */
  close(): Promise<void>
}

const METADATA_ROOT = '/.well-known/oauth-protected-resource'

/**
 * Compiles the validated configuration once into an immutable route table: every route gets its
 * stage functions, with validators, pools, allow-lists and header plans built here, so nothing
 * parses or merges configuration per request.
 */
export function compileRoutes(config: GatewayConfig, deps: CompileDeps): CompiledGateway {
  const { settings } = config
  const publicHost = new URL(deps.publicUrl).host
  const upstreams = new Map<string, UpstreamClient>()
  for (const [name, upstream] of Object.entries(settings.upstreams)) {
    const cert = upstream.clientCertificate
    upstreams.set(
      name,
      createUpstreamClient(upstream, {
        ...(upstream.ca === undefined ? {} : { ca: config.secret(upstream.ca) }),
        ...(cert === undefined
          ? {}
          : { cert: config.secret(cert.cert), key: config.secret(cert.key) }),
      }),
    )
  }
  const keySets = new Map<string, KeySet>()
  const validators = new Map<string, JwtValidator>()
  const introspectors = new Map<string, IntrospectionClient>()
  const cleanups: (() => void)[] = []

  function validatorFor(issuerName: string, audience: string, cache: boolean): JwtValidator {
    const memoKey = `${issuerName}|${audience}|${cache}`
    const existing = validators.get(memoKey)
    if (existing !== undefined) return existing
    const issuer = settings.issuers[issuerName]
    if (issuer === undefined) throw new TypeError(`unknown issuer ${issuerName}`)
    let keySet = keySets.get(issuerName)
    if (keySet === undefined) {
      keySet = createRemoteJwks({
        uri: issuer.jwksUri,
        ...(issuer.ca === undefined ? {} : { ca: config.secret(issuer.ca) }),
        ...(deps.now === undefined ? {} : { now: deps.now }),
      })
      keySets.set(issuerName, keySet)
    }
    const validator = createJwtValidator({
      issuer: issuer.issuer,
      audience,
      keySet,
      algorithms: issuer.algorithms,
      clockToleranceSeconds: issuer.clockToleranceSeconds,
      ...(cache ? { cache: { maxEntries: settings.verifiedTokenCache.maxEntries } } : {}),
      ...(deps.now === undefined ? {} : { now: deps.now }),
    })
    validators.set(memoKey, validator)
    return validator
  }

  function introspectorFor(issuerName: string): IntrospectionClient {
    const existing = introspectors.get(issuerName)
    if (existing !== undefined) return existing
    const issuer = settings.issuers[issuerName]
    const introspection = issuer?.introspection
    if (issuer === undefined || introspection === undefined) {
      throw new TypeError(`issuer ${issuerName} has no introspection client`)
    }
    const client = createIntrospectionClient({
      issuerName,
      endpoint: introspection.endpoint,
      clientId: introspection.clientId,
      clientSecret: config.secret(introspection.clientSecret),
      timeoutMs: introspection.timeoutMs,
      ...(issuer.ca === undefined ? {} : { ca: config.secret(issuer.ca) }),
    })
    introspectors.set(issuerName, client)
    cleanups.push(() => client.close())
    return client
  }

  let cookieReader: CookieTokenReader | undefined
  function cookieReaderFor(): CookieTokenReader {
    const tokenHandler = settings.tokenHandler
    if (tokenHandler === undefined)
      throw new TypeError('cookie routes need the tokenHandler section')
    cookieReader ??= createCookieTokenReader({
      cookies: { ...tokenHandler.cookies, domain: tokenHandler.cookies.domain },
      keys: tokenHandler.keys.map((entry) => ({
        id: entry.id,
        key: decodeKey(config.secret(entry.key)),
      })),
      currentKeyId: tokenHandler.currentKeyId,
      allowedOrigins: tokenHandler.allowedOrigins,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    })
    return cookieReader
  }

  function phantomFor(auth: { issuer: string; audience: string; cacheMaxSeconds: number }) {
    const authenticator = createPhantomAuthenticator({
      introspection: introspectorFor(auth.issuer),
      // The phantom cache already holds each verified JWT: no second cache.
      validator: validatorFor(auth.issuer, auth.audience, false),
      cache: deps.state.phantomCache,
      cacheMaxSeconds: auth.cacheMaxSeconds,
      negativeSeconds: settings.phantomCache.negativeSeconds,
      metrics: deps.metrics,
      revocations: deps.state.revocations,
      audience: auth.audience,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    })
    cleanups.push(authenticator.close)
    return authenticator
  }

  function authenticatorFor(route: Route): (req: MatchedRequest) => Promise<Principal> {
    const auth = route.auth
    switch (auth.method) {
      case 'public':
        return createPublicAuthenticator()
      case 'jwt': {
        const jwt = createJwtAuthenticator(
          validatorFor(auth.issuer, auth.audience, true),
          deps.state.revocations,
        )
        cleanups.push(jwt.close)
        return jwt.authenticate
      }
      case 'phantom':
        return phantomFor(auth).authenticate
      case 'cookie':
        return createCookieAuthenticator({
          reader: cookieReaderFor(),
          csrfHeaderName: settings.tokenHandler?.csrfHeaderName ?? 'x-csrf-token',
          resolveOpaque: phantomFor(auth).resolveOpaque,
        })
      case 'split': {
        const split = createSplitAuthenticator({
          store: deps.state.splitTokens,
          validator: validatorFor(auth.issuer, auth.audience, true),
          metrics: deps.metrics,
          revocations: deps.state.revocations,
        })
        cleanups.push(split.close)
        return split.authenticate
      }
    }
  }

  const resources = new Map<
    string,
    { resource: string; issuers: Set<string>; scopes: Set<string> }
  >()
  const matchers: RouteMatcher[] = settings.routes.map((route) => {
    const upstream = upstreams.get(route.upstream)
    if (upstream === undefined) throw new TypeError(`unknown upstream ${route.upstream}`)
    let resourceMetadataUrl: string | undefined
    if (route.auth.method !== 'public') {
      const path = metadataPath(route.auth.audience)
      resourceMetadataUrl = `${deps.publicUrl}${path}`
      const issuer = settings.issuers[route.auth.issuer]
      const entry = resources.get(path) ?? {
        resource: route.auth.audience,
        issuers: new Set<string>(),
        scopes: new Set<string>(),
      }
      const authorizationServer = issuer?.authorizationServer ?? issuer?.issuer
      if (authorizationServer !== undefined) entry.issuers.add(authorizationServer)
      for (const scopes of Object.values(route.scopes)) {
        for (const scope of scopes ?? []) entry.scopes.add(scope)
      }
      resources.set(path, entry)
    }
    const limiter = createLimiter(
      settings.rateLimits,
      route.rateLimits,
      route.id,
      deps.state.rateLimits,
    )
    const compiled: CompiledRoute = {
      id: route.id,
      authMethod: route.auth.method,
      methods: new Set(route.match.methods),
      cors: createCors(route),
      resourceMetadataUrl,
      authenticate: authenticatorFor(route),
      authorize: createAuthorizer(route),
      ...(route.queryParams === undefined
        ? {}
        : { unexpectedParams: createParamCheck(route.queryParams.allow) }),
      limitEarly: limiter.beforeAuthentication,
      limit: limiter.afterAuthentication,
      transform: createTransformer(route, publicHost),
      forward: (out, downstream, head) => upstream.forward(out, downstream, head),
    }
    return Object.freeze({
      route: Object.freeze(compiled),
      host: route.match.host?.toLowerCase(),
      matchesPath: compilePathPattern(route.match.path),
    })
  })

  const metadata = new Map<string, string>()
  for (const [path, entry] of resources) {
    metadata.set(
      path,
      JSON.stringify({
        resource: entry.resource,
        authorization_servers: [...entry.issuers],
        scopes_supported: [...entry.scopes].sort(),
        bearer_methods_supported: ['header'],
      }),
    )
  }

  return {
    table: Object.freeze({
      matchers: Object.freeze(matchers),
      maxPathBytes: settings.listen.limits.maxPathBytes,
      allowPathParameters: settings.paths.allowParameters,
      metadata,
    }),
    async close() {
      for (const cleanup of cleanups) cleanup()
      await Promise.all([...upstreams.values()].map((upstream) => upstream.close()))
    },
  }
}

/** RFC 9728 §3.1: the well-known path is inserted before the resource identifier's path. */
export function metadataPath(audience: string): string {
  let path: string
  try {
    const url = new URL(audience)
    path = url.protocol === 'https:' ? url.pathname : `/${encodeURIComponent(audience)}`
  } catch {
    path = `/${encodeURIComponent(audience)}`
  }
  return path === '/' ? METADATA_ROOT : `${METADATA_ROOT}${path.replace(/\/$/, '')}`
}

/** A token-handler cookie key: 32 bytes, base64 or base64url (checked at load too). */
function decodeKey(encoded: string): Uint8Array {
  const bytes = Buffer.from(encoded.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.byteLength !== 32) throw new TypeError('token handler cookie keys must be 32 bytes')
  return bytes
}
