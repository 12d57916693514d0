/**
 * Runs the token handler on 127.0.0.1 (plain HTTP: the cookie attributes are asserted, not
 * enforced by a browser here) in front of the mock authorization server, with a tiny cookie jar
 * per simulated browser.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuditBus } from '@gatehouse/audit'
import { type Dispatcher, request } from 'undici'
import { parseTokenHandlerConfig, type TokenHandlerConfigInput } from '../config/schema.js'
import type { CookieKey } from '../core/cookie-crypto.js'
import { createTokenHandler, type RequestOutcome } from '../http/create-token-handler.js'
import {
  CLIENT_ID,
  CLIENT_SECRET,
  ISSUER,
  type MockAuthorizationServer,
  type MockAuthorizationServerOptions,
  startMockAuthorizationServer,
} from './mock-authorization-server.js'

export const APP_ORIGIN = 'https://app.test'
export const REDIRECT_URI = `${APP_ORIGIN}/callback`
export const BASE_PATH = '/tokenhandler'

export function testConfigInput(
  overrides: Partial<TokenHandlerConfigInput> = {},
): TokenHandlerConfigInput {
  return {
    authorizationServer: { issuer: ISSUER },
    client: {
      id: CLIENT_ID,
      authentication: { method: 'client_secret_basic', secret: { env: 'CLIENT_SECRET' } },
    },
    redirectUri: REDIRECT_URI,
    postLogoutRedirectUri: `${APP_ORIGIN}/`,
    scope: 'openid profile',
    allowedOrigins: [APP_ORIGIN],
    basePath: BASE_PATH,
    cookies: { keys: [{ id: 'k1', key: { env: 'COOKIE_KEY' } }], currentKeyId: 'k1' },
    ...overrides,
  }
}

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly setCookies: string[]
  readonly body: Record<string, unknown>
}

export interface RequestOptions {
  readonly origin?: string | null
  readonly csrf?: string
  readonly json?: unknown
  readonly headers?: Record<string, string>
  /** Send exactly this Cookie header instead of the browser's jar. */
  readonly cookie?: string
}

export interface Browser {
  /** name → sealed value, as a browser would keep them. */
  readonly jar: Map<string, string>
  cookieHeader(): string
  send(method: string, path: string, options?: RequestOptions): Promise<Reply>
  /** Logs in through the whole flow and returns the CSRF token. */
  login(subject?: string): Promise<string>
}

export interface Harness {
  readonly as: MockAuthorizationServer
  readonly baseUrl: string
  readonly cookieKeys: CookieKey[]
  readonly outcomes: RequestOutcome[]
  browser(): Browser
  close(): Promise<void>
}

export async function startHarness(
  options: {
    readonly config?: Partial<TokenHandlerConfigInput>
    readonly as?: MockAuthorizationServerOptions
    /** Share another harness's authorization server (it stays open when this one closes). */
    readonly sharedAs?: MockAuthorizationServer
    readonly cookieKeys?: CookieKey[]
    readonly now?: () => number
    readonly audit?: AuditBus
  } = {},
): Promise<Harness> {
  const as = options.sharedAs ?? (await startMockAuthorizationServer(options.as))
  const cookieKeys = options.cookieKeys ?? [{ id: 'k1', key: randomBytes(32) }]
  const config = parseTokenHandlerConfig(testConfigInput(options.config))
  const outcomes: RequestOutcome[] = []
  const tokenHandler = createTokenHandler(config, {
    secrets: { cookieKeys, clientSecret: CLIENT_SECRET },
    dispatcher: as.agent,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.audit === undefined ? {} : { audit: options.audit }),
    onOutcome: (outcome) => outcomes.push(outcome),
  })
  const server: Server = createServer(tokenHandler.handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  function browser(): Browser {
    const jar = new Map<string, string>()
    const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
      const headers: Record<string, string> = { ...opts.headers }
      if (opts.origin !== null) headers.origin = opts.origin ?? APP_ORIGIN
      if (opts.csrf !== undefined) headers['x-gatehouse-csrf'] = opts.csrf
      const cookie = opts.cookie ?? cookieHeader()
      if (cookie !== '') headers.cookie = cookie
      let body: string | undefined
      if (opts.json !== undefined) {
        headers['content-type'] = 'application/json'
        body = JSON.stringify(opts.json)
      }
      const response = await request(`${baseUrl}${BASE_PATH}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers,
        ...(body === undefined ? {} : { body }),
      })
      const text = await response.body.text()
      const raw = response.headers['set-cookie']
      const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
      for (const line of setCookies) {
        const [pair = ''] = line.split(';')
        const separator = pair.indexOf('=')
        const name = pair.slice(0, separator)
        const value = pair.slice(separator + 1)
        if (/Max-Age=0/.test(line)) jar.delete(name)
        else jar.set(name, value)
      }
      return {
        status: response.statusCode,
        headers: response.headers,
        setCookies,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      }
    }
    return {
      jar,
      cookieHeader,
      send,
      async login(subject) {
        const start = await send('POST', '/login/start')
        const landed = await as.authorize(String(start.body.authorizationUrl), subject)
        const end = await send('POST', '/login/end', { json: { pageUrl: landed } })
        if (end.status !== 200) throw new Error(`login failed: ${JSON.stringify(end.body)}`)
        return String(end.body.csrfToken)
      },
    }
  }

  return {
    as,
    baseUrl,
    cookieKeys,
    outcomes,
    browser,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await tokenHandler.close()
      if (options.sharedAs === undefined) await as.close()
    },
  }
}
