import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuditBus } from '@gatehouse/audit'
import * as oauth from 'oauth4webapi'
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici'
import type { TokenHandlerConfig } from '../config/schema.js'
import type { TokenHandlerSecrets } from '../config/secrets.js'
import {
  type CustomFetch,
  createAuthorizationServerClient,
} from '../core/authorization-server-client.js'
import type { TokenHandlerContext } from '../core/context.js'
import { createCookieSealer } from '../core/cookie-crypto.js'
import { createCookieJar } from '../core/cookies.js'
import { checkCsrf, checkOrigin } from '../core/csrf.js'
import { createEndedSessions } from '../core/ended-sessions.js'
import { endLogin, startLogin } from '../core/login.js'
import { logout } from '../core/logout.js'
import { createRefreshCoordinator, refreshSession } from '../core/refresh.js'
import { hasSessionCookies, sessionState } from '../core/session.js'
import {
  InvalidRequest,
  LoginFailed,
  MethodNotAllowed,
  NotFound,
  OriginNotAllowed,
  SessionExpired,
} from '../errors.js'
import { createCors } from './cors.js'
import { readBody, readJsonObject } from './read-json.js'
import { type RenderedProblem, sendJson, sendProblem } from './respond.js'

export interface TokenHandlerDeps {
  readonly secrets: TokenHandlerSecrets
  /** PEM certificates the authorization server's TLS certificate must chain to (the dev CA). */
  readonly ca?: string | readonly string[]
  /** A ready undici dispatcher for calls to the authorization server (overrides `ca`). */
  readonly dispatcher?: Dispatcher
  readonly now?: () => number
  readonly audit?: AuditBus
  /** Every failure, with its reason code; internal faults carry their cause (log it, not to clients). */
  readonly onOutcome?: (outcome: RequestOutcome) => void
}

export interface RequestOutcome {
  readonly route: string
  readonly status: number
  readonly reason: string
  readonly error?: unknown
}

export interface TokenHandler {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  close(): Promise<void>
}

interface Endpoint {
  readonly method: 'GET' | 'POST'
  /** After login, a state-changing call must also carry the CSRF header. */
  readonly csrf: 'with-session' | 'never'
  run(req: IncomingMessage, cookieHeader: string | undefined): Promise<Reply>
}

interface Reply {
  readonly status: number
  readonly body: unknown
  readonly setCookies: readonly string[]
}

/**
 * The token handler as a node:http handler: `POST /login/start`, `POST /login/end`,
 * `GET /session`, `POST /refresh`, `POST /logout` under `basePath`. A thin adapter: Origin,
 * CSRF, CORS and body parsing here; the protocol in `core/`.
 */
export function createTokenHandler(
  config: TokenHandlerConfig,
  deps: TokenHandlerDeps,
): TokenHandler {
  const now = deps.now ?? Date.now
  const ownsDispatcher = deps.dispatcher === undefined
  const dispatcher =
    deps.dispatcher ??
    new Agent({
      ...(deps.ca === undefined ? {} : { connect: { ca: deps.ca as string | string[] } }),
      headersTimeout: config.authorizationServer.timeoutMs,
      bodyTimeout: config.authorizationServer.timeoutMs,
    })
  const fetchThroughDispatcher: CustomFetch = (url, options) =>
    undiciFetch(url, {
      ...(options as unknown as Record<string, unknown>),
      dispatcher,
    }) as unknown as Promise<Response>

  const context: TokenHandlerContext = {
    endedSessions: createEndedSessions(config.refresh.maxSessions, now),
    authorizationServer: createAuthorizationServerClient({
      issuer: new URL(config.authorizationServer.issuer),
      clientId: config.client.id,
      clientAuth: clientAuthentication(config, deps.secrets),
      fetch: fetchThroughDispatcher,
      timeoutMs: config.authorizationServer.timeoutMs,
      now,
    }),
    cookies: createCookieJar(
      {
        namePrefix: config.cookies.namePrefix,
        domain: config.cookies.domain,
        basePath: config.basePath,
        apiPath: config.cookies.apiPath,
      },
      createCookieSealer({
        keys: deps.secrets.cookieKeys,
        currentKeyId: config.cookies.currentKeyId,
      }),
      now,
    ),
    settings: {
      redirectUri: config.redirectUri,
      postLogoutRedirectUri: config.postLogoutRedirectUri,
      scope: config.scope,
      loginTimeoutSeconds: config.session.loginTimeoutSeconds,
      sessionLifetimeSeconds: config.session.absoluteLifetimeSeconds,
      pushedAuthorizationRequests: config.pushedAuthorizationRequests.enabled,
      endSessionIdTokenHint: config.endSession.idTokenHint,
      extraAuthorizationParameters: config.authorizationParameters,
    },
    now,
    audit: deps.audit,
  }
  const coordinator = createRefreshCoordinator(config.refresh)
  const allowedOrigins = new Set(config.allowedOrigins)
  const cors = createCors(allowedOrigins, config.csrf.headerName)
  const maxBody = config.http.maxBodyBytes

  const endpoints = new Map<string, Endpoint>([
    [
      '/login/start',
      {
        method: 'POST',
        csrf: 'never',
        async run(req) {
          await readBody(req, maxBody)
          const started = await startLogin(context)
          return {
            status: 200,
            body: { authorizationUrl: started.authorizationUrl },
            setCookies: started.setCookies,
          }
        },
      },
    ],
    [
      '/login/end',
      {
        method: 'POST',
        csrf: 'never',
        async run(req, cookieHeader) {
          const body = await readJsonObject(req, maxBody)
          if (typeof body.pageUrl !== 'string' || body.pageUrl.length > maxBody) {
            throw new InvalidRequest('pageUrl is required', 'login.page_url_missing')
          }
          const ended = await endLogin(context, body.pageUrl, cookieHeader)
          return {
            status: 200,
            body: { handled: ended.handled, ...ended.session },
            setCookies: ended.setCookies,
          }
        },
      },
    ],
    [
      '/session',
      {
        method: 'GET',
        csrf: 'never',
        async run(_req, cookieHeader) {
          return { status: 200, body: sessionState(context, cookieHeader), setCookies: [] }
        },
      },
    ],
    [
      '/refresh',
      {
        method: 'POST',
        // Without any session cookie there is nothing to refresh: session_expired, not csrf_failed.
        csrf: 'with-session',
        async run(req, cookieHeader) {
          await readBody(req, maxBody)
          const refreshed = await refreshSession(context, coordinator, cookieHeader)
          return {
            status: 200,
            body: { accessTokenExpiresAt: refreshed.accessTokenExpiresAt },
            setCookies: refreshed.setCookies,
          }
        },
      },
    ],
    [
      '/logout',
      {
        method: 'POST',
        csrf: 'with-session',
        async run(req, cookieHeader) {
          await readBody(req, maxBody)
          const ended = await logout(context, cookieHeader)
          return {
            status: 200,
            body: { endSessionUrl: ended.endSessionUrl, revoked: ended.revoked },
            setCookies: ended.setCookies,
          }
        },
      },
    ],
  ])

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<RequestOutcome> {
    const origin = singleHeader(req, 'origin')
    const corsHeaders = cors.headers(origin)
    const route = routeOf(req.url, config.basePath)
    const endpoint = route === null ? undefined : endpoints.get(route)
    const routeName = route ?? 'unmatched'
    try {
      if (endpoint === undefined) throw new NotFound('not found', 'http.not_found')
      if (req.method === 'OPTIONS') {
        const preflight = cors.preflight(
          origin,
          singleHeader(req, 'access-control-request-method'),
          [endpoint.method],
        )
        if (preflight === null) {
          throw new OriginNotAllowed('the preflight is not allowed', 'cors.preflight_refused')
        }
        res.writeHead(204, preflight).end()
        return { route: routeName, status: 204, reason: 'cors.preflight' }
      }
      if (req.method !== endpoint.method) {
        throw new MethodNotAllowed(endpoint.method)
      }
      const cookieHeader = singleHeader(req, 'cookie')
      if (endpoint.method === 'POST') {
        // Origin first, then CSRF: a refused request changes nothing.
        checkOrigin(origin, allowedOrigins)
        if (endpoint.csrf === 'with-session' && hasSessionCookies(context, cookieHeader)) {
          checkCsrf(cookieHeader, singleHeader(req, config.csrf.headerName), context.cookies)
        }
      } else if (origin !== undefined) {
        checkOrigin(origin, allowedOrigins)
      }
      const reply = await endpoint.run(req, cookieHeader)
      sendJson(res, reply.status, reply.body, {
        ...corsHeaders,
        ...(reply.setCookies.length > 0 ? { 'set-cookie': reply.setCookies } : {}),
      })
      return { route: routeName, status: reply.status, reason: 'ok' }
    } catch (error) {
      // A dead session's cookies and a spent login's cookie are cleared with the refusal.
      const clear =
        error instanceof SessionExpired && hasSessionCookies(context, singleHeader(req, 'cookie'))
          ? { 'set-cookie': context.cookies.clearAll() }
          : error instanceof LoginFailed
            ? { 'set-cookie': [context.cookies.clear('login')] }
            : {}
      const rendered: RenderedProblem = sendProblem(res, error, { ...corsHeaders, ...clear })
      return {
        route: routeName,
        status: rendered.status,
        reason: rendered.reason,
        ...(rendered.status >= 500 ? { error } : {}),
      }
    }
  }

  return {
    handler(req, res) {
      handle(req, res).then(
        (outcome) => deps.onOutcome?.(outcome),
        (error: unknown) => {
          if (!res.writableEnded) res.destroy()
          deps.onOutcome?.({ route: 'unknown', status: 500, reason: 'internal', error })
        },
      )
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close()
    },
  }
}

function clientAuthentication(config: TokenHandlerConfig, secrets: TokenHandlerSecrets) {
  const auth = config.client.authentication
  if (auth.method === 'client_secret_basic') {
    if (secrets.clientSecret === undefined) {
      throw new TypeError('client_secret_basic needs secrets.clientSecret')
    }
    return oauth.ClientSecretBasic(secrets.clientSecret)
  }
  if (secrets.clientPrivateKey === undefined) {
    throw new TypeError('private_key_jwt needs secrets.clientPrivateKey')
  }
  return oauth.PrivateKeyJwt(
    auth.keyId === undefined
      ? secrets.clientPrivateKey
      : { key: secrets.clientPrivateKey, kid: auth.keyId },
  )
}

function routeOf(rawUrl: string | undefined, basePath: string): string | null {
  if (rawUrl === undefined || !rawUrl.startsWith('/')) return null
  const path = rawUrl.split('?')[0] ?? ''
  if (!path.startsWith(`${basePath}/`)) return null
  return path.slice(basePath.length)
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}
