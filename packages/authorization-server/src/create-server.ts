import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AuditBus, timeOrderedId } from '@gatehouse/audit'
import { createAuditTrail } from './audit/events.js'
import type { AuthorizationServerConfig } from './config/schema.js'
import type { AuthorizationServerSecrets } from './config/secrets.js'
import { endpointUrls, type RequestContext, type ServerContext } from './context.js'
import { createAdminEndpoint } from './endpoints/admin.js'
import { createAuthorizationEndpoint } from './endpoints/authorize/index.js'
import { createInteractionEndpoints } from './endpoints/authorize/interaction.js'
import { createDiscoveryEndpoint, type SupportedFeatures } from './endpoints/discovery.js'
import { createIntrospectionEndpoint } from './endpoints/introspect.js'
import { createJwksEndpoint } from './endpoints/jwks.js'
import { createLogoutEndpoint } from './endpoints/logout.js'
import { createPushedAuthorizationEndpoint } from './endpoints/par.js'
import { createRevocationEndpoint } from './endpoints/revoke.js'
import { authorizationCodeGrant } from './endpoints/token/grants/authorization-code.js'
import { refreshTokenGrant } from './endpoints/token/grants/refresh-token.js'
import { tokenExchangeGrant } from './endpoints/token/grants/token-exchange.js'
import { createTokenEndpoint } from './endpoints/token/index.js'
import { createUserinfoEndpoint } from './endpoints/userinfo.js'
import { MethodNotAllowed, NotFound, OAuthError, TemporarilyUnavailable } from './errors.js'
import { createInProcessRevocationBus, type RevocationBus } from './events/revocation-bus.js'
import { sendOAuthError } from './http/respond.js'
import { createKeyEncryption } from './keys/key-encryption.js'
import { createKeyRing, ensureSigningKeys, type KeyRotationPolicy } from './keys/signing-keys.js'
import { createCsrf } from './login/csrf.js'
import { startMaintenance } from './maintenance.js'
import { sendFailurePage } from './pages/failure.js'
import type { AuthorizationServerStore } from './store/store.js'
import { OPENID_SCOPES } from './tokens/scope.js'
import { createInMemorySplitTokenStore, type SplitTokenStore } from './tokens/split-tokens.js'

export interface AuthorizationServerDeps {
  readonly store: AuthorizationServerStore
  readonly secrets: AuthorizationServerSecrets
  /** Milliseconds since the epoch; tests inject a clock. */
  readonly now?: () => number
  /** The platform audit bus to emit to (a new one when absent). */
  readonly audit?: AuditBus
  /** Where revocations are published (in-process by default; Redis in issue #7). */
  readonly revocations?: RevocationBus
  /** Where split tokens' header.payload go (in-process by default; the gateway's shared state). */
  readonly splitTokens?: SplitTokenStore
  /**
   * One access-log line per request (pino-compatible): method, path without query, status,
   * duration, request id and the denial reason; never headers, query strings or bodies.
   */
  readonly logger?: AccessLogger
  /** Internal failures (never client mistakes): a store down, a sink failing. */
  readonly onError?: (error: unknown) => void
  /** Run the sweep and the rotation schedule on timers (default true). */
  readonly maintenance?: boolean
}

export interface AccessLogger {
  info(entry: Record<string, unknown>, message: string): void
  error(entry: Record<string, unknown>, message: string): void
}

export interface AuthorizationServer {
  /** A node:http / node:https request listener. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  readonly events: { readonly audit: AuditBus; readonly revocations: RevocationBus }
  /** The split-token store the server writes to (give a gateway the same one). */
  readonly splitTokens: SplitTokenStore
  readonly context: ServerContext
  /** Stops timers and waits for pending audit writes. The store belongs to the caller. */
  close(): Promise<void>
}

type Endpoint = (rc: RequestContext) => Promise<void>
type Routes = Map<string, Partial<Record<string, Endpoint>>>

export function keyRotationPolicy(config: AuthorizationServerConfig): KeyRotationPolicy {
  const skewMs = config.tokens.clockSkewSeconds * 1000
  const longestTokenMs =
    Math.max(config.tokens.accessTokenTtlSeconds, config.tokens.idTokenTtlSeconds) * 1000
  return {
    algorithm: config.keys.algorithm,
    publishAheadMs: config.keys.jwksMaxAgeSeconds * 1000 + skewMs,
    retainRetiredMs: longestTokenMs + skewMs,
  }
}

/**
 * Builds the authorization server from a validated, frozen configuration. Everything that can
 * be computed from the configuration is computed here, once: routes, metadata, policies.
 */
export async function createAuthorizationServer(
  config: AuthorizationServerConfig,
  deps: AuthorizationServerDeps,
): Promise<AuthorizationServer> {
  const now = deps.now ?? Date.now
  const onError = deps.onError ?? (() => {})
  const logger = deps.logger
  const encryption = createKeyEncryption(deps.secrets.keyEncryptionKey)
  const policy = keyRotationPolicy(config)
  await ensureSigningKeys(deps.store, encryption, policy, now())
  const audit = createAuditTrail(deps.store, {
    ...(deps.audit === undefined ? {} : { bus: deps.audit }),
    now,
    onError,
  })
  const ctx: ServerContext = {
    config,
    store: deps.store,
    keys: createKeyRing(deps.store, encryption, { now }),
    encryption,
    audit,
    revocations: deps.revocations ?? createInProcessRevocationBus({ onListenerError: onError }),
    splitTokens: deps.splitTokens ?? createInMemorySplitTokenStore(now),
    urls: endpointUrls(config.issuer),
    now,
    reportError: onError,
    knownScopes: new Set([...OPENID_SCOPES, ...Object.keys(config.scopes)]),
  }

  const grants = {
    authorization_code: authorizationCodeGrant,
    refresh_token: refreshTokenGrant,
    'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchangeGrant,
  }
  const features: SupportedFeatures = {
    grantTypes: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ],
    authorization: true,
  }
  const csrf = createCsrf(deps.secrets.keyEncryptionKey)
  const issuerPath = new URL(config.issuer).pathname.replace(/\/$/, '')
  const routes: Routes = new Map()
  // Where a browser is sent (sign-in, consent, logout): a failure there is answered with a page.
  const pages = new Set<string>()
  const route = (
    path: string,
    method: string,
    endpoint: Endpoint,
    kind: 'api' | 'page' = 'api',
  ) => {
    routes.set(`${issuerPath}${path}`, {
      ...routes.get(`${issuerPath}${path}`),
      [method]: endpoint,
    })
    if (kind === 'page') pages.add(`${issuerPath}${path}`)
  }
  const discovery = createDiscoveryEndpoint(ctx, features)
  // RFC 8414 §3: the well-known URI is inserted between the host and the issuer's path.
  routes.set(`/.well-known/oauth-authorization-server${issuerPath}`, { GET: discovery })
  route('/.well-known/openid-configuration', 'GET', discovery)
  route('/jwks', 'GET', createJwksEndpoint(ctx))
  route('/token', 'POST', createTokenEndpoint(ctx, grants))
  const authorize = createAuthorizationEndpoint(ctx)
  route('/authorize', 'GET', authorize, 'page')
  route('/authorize', 'POST', authorize, 'page')
  const interaction = createInteractionEndpoints(ctx, csrf)
  route('/interaction', 'GET', interaction.show, 'page')
  route('/interaction', 'POST', interaction.submit, 'page')
  route('/par', 'POST', createPushedAuthorizationEndpoint(ctx))
  const userinfo = createUserinfoEndpoint(ctx)
  route('/userinfo', 'GET', userinfo)
  route('/userinfo', 'POST', userinfo)
  const logout = createLogoutEndpoint(ctx, csrf)
  route('/logout', 'GET', logout, 'page')
  route('/logout', 'POST', logout, 'page')
  route('/introspect', 'POST', createIntrospectionEndpoint(ctx))
  route('/revoke', 'POST', createRevocationEndpoint(ctx))

  const adminPrefix = `${issuerPath}/admin/`
  const admin = createAdminEndpoint(ctx, policy)

  const maintenance = deps.maintenance === false ? null : startMaintenance(ctx, policy, onError)
  const realm = 'gatehouse'

  function handler(req: IncomingMessage, res: ServerResponse): void {
    // Time-ordered: audit rows are indexed by request id (see @gatehouse/audit ids.ts).
    const requestId = timeOrderedId()
    res.setHeader('x-request-id', requestId)
    res.setHeader('x-content-type-options', 'nosniff')
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://authorization-server.invalid')
    } catch {
      sendOAuthError(res, new NotFound('not found', 'http.bad_url'), realm)
      return
    }
    const rc: RequestContext = {
      req,
      res,
      url,
      requestId,
      ip: req.socket.remoteAddress ?? 'unknown',
    }
    const started = performance.now()
    let reason: string | undefined
    if (logger !== undefined) {
      res.once('finish', () => {
        logger.info(
          {
            requestId,
            method: req.method,
            path: url.pathname,
            status: res.statusCode,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
            ...(reason === undefined ? {} : { reason }),
          },
          'request',
        )
      })
    }
    const methods = routes.get(url.pathname)
    const endpoint = methods?.[req.method ?? '']
    const run = async () => {
      if (methods === undefined && url.pathname.startsWith(adminPrefix)) {
        await admin(rc, url.pathname.slice(adminPrefix.length))
        return
      }
      if (methods === undefined) throw new NotFound('not found', 'http.not_found')
      if (endpoint === undefined) throw new MethodNotAllowed(Object.keys(methods))
      await endpoint(rc)
    }
    run().catch((error: unknown) => {
      if (error instanceof TemporarilyUnavailable) {
        // Exposed to the client as a 503, but an operator must hear of it: the store is down.
        reason = error.reason
        logger?.error({ requestId, reason, cause: causeCode(error.cause) }, 'store unavailable')
      } else if (error instanceof OAuthError && error.expose) {
        reason = error.reason
      } else {
        reason = 'internal'
        onError(error)
        logger?.error(
          { requestId, err: error instanceof Error ? error.name : 'unknown' },
          'internal error',
        )
      }
      if (pages.has(url.pathname)) sendFailurePage(res, error, realm)
      else sendOAuthError(res, error, realm)
    })
  }

  return {
    handler,
    events: { audit: audit.bus, revocations: ctx.revocations },
    splitTokens: ctx.splitTokens,
    context: ctx,
    async close() {
      maintenance?.stop()
      await audit.flush()
    },
  }
}

/** The machine-readable code of a failure (ECONNREFUSED, a SQLSTATE), never its message. */
function causeCode(cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : cause instanceof Error ? cause.name : 'unknown'
}
