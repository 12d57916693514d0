/**
 * Starts the Gatehouse token handler over HTTPS (dev CA) on 127.0.0.1 in front of a real
 * authorization server, and plays the two halves of a browser: the SPA's fetch calls to the
 * token handler (its own cookie jar, the SPA's Origin) and the top-level navigation through the
 * authorization server's login and consent pages (test/e2e/support/browser.ts).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  createTokenHandler,
  parseTokenHandlerConfig,
  type RequestOutcome,
  resolveTokenHandlerSecrets,
  type TokenHandler,
  type TokenHandlerConfig,
  type TokenHandlerConfigInput,
  type TokenHandlerSecrets,
} from '@gatehouse/token-handler'
import { Agent, request } from 'undici'
import { createBrowser, type Browser as PageBrowser } from '../../support/browser.js'
import type { StartedAuthorizationServer } from '../../support/start-authorization-server.js'

export const SPA_ORIGIN = 'https://app.gatehouse.test'
export const REDIRECT_URI = `${SPA_ORIGIN}/callback`
export const POST_LOGOUT_URI = `${SPA_ORIGIN}/`
export const BASE_PATH = '/tokenhandler'
export const PASSWORD = 'correct horse battery staple'

export interface SpaReply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly setCookies: string[]
  readonly body: Record<string, unknown>
}

export interface Spa {
  readonly jar: Map<string, string>
  cookieHeader(): string
  send(
    method: 'GET' | 'POST',
    path: string,
    options?: { json?: unknown; csrf?: string; cookie?: string; origin?: string | null },
  ): Promise<SpaReply>
  /** Login start → the real login (and consent) pages → the URL the browser lands on. */
  signIn(username: string): Promise<string>
  /** The whole login; returns the CSRF token. */
  login(username: string): Promise<string>
}

export interface StartedTokenHandler {
  readonly url: string
  readonly config: TokenHandlerConfig
  readonly secrets: TokenHandlerSecrets
  readonly outcomes: RequestOutcome[]
  spa(): Spa
  close(): Promise<void>
}

export async function startTokenHandler(
  as: StartedAuthorizationServer,
  options: {
    readonly clientId: string
    readonly config?: Partial<TokenHandlerConfigInput>
    readonly env?: Record<string, string>
  },
): Promise<StartedTokenHandler> {
  const env: Record<string, string> = {
    TH_COOKIE_KEY: randomBytes(32).toString('base64url'),
    TH_CLIENT_SECRET: as.clientSecrets.get(options.clientId) ?? '',
    ...options.env,
  }
  const config = parseTokenHandlerConfig({
    authorizationServer: { issuer: as.issuer },
    client: {
      id: options.clientId,
      authentication: { method: 'client_secret_basic', secret: { env: 'TH_CLIENT_SECRET' } },
    },
    redirectUri: REDIRECT_URI,
    postLogoutRedirectUri: POST_LOGOUT_URI,
    scope: 'openid profile orders:read',
    allowedOrigins: [SPA_ORIGIN],
    basePath: BASE_PATH,
    cookies: { keys: [{ id: 'k1', key: { env: 'TH_COOKIE_KEY' } }], currentKeyId: 'k1' },
    ...options.config,
  })
  const secrets = await resolveTokenHandlerSecrets(config, { env })
  const outcomes: RequestOutcome[] = []
  const tokenHandler: TokenHandler = createTokenHandler(config, {
    secrets,
    ca: as.ca.cert,
    onOutcome: (outcome) => outcomes.push(outcome),
  })
  const certificate = await as.ca.issue({ commonName: 'localhost', usage: 'server' })
  const server: Server = createServer(
    { cert: certificate.cert, key: certificate.key },
    tokenHandler.handler,
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const agent = new Agent({ connect: { ca: as.ca.cert } })

  function spa(): Spa {
    const jar = new Map<string, string>()
    const pages: PageBrowser = createBrowser(as.issuer, as.fetch)
    const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const self: Spa = {
      jar,
      cookieHeader,
      async send(method, path, opts = {}) {
        const headers: Record<string, string> = {}
        if (opts.origin !== null) headers.origin = opts.origin ?? SPA_ORIGIN
        if (opts.csrf !== undefined) headers['x-gatehouse-csrf'] = opts.csrf
        const cookie = opts.cookie ?? cookieHeader()
        if (cookie !== '') headers.cookie = cookie
        let body: string | undefined
        if (opts.json !== undefined) {
          headers['content-type'] = 'application/json'
          body = JSON.stringify(opts.json)
        }
        const response = await request(`${url}${BASE_PATH}${path}`, {
          method,
          headers,
          dispatcher: agent,
          ...(body === undefined ? {} : { body }),
        })
        const text = await response.body.text()
        const raw = response.headers['set-cookie']
        const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
        for (const line of setCookies) {
          const pair = line.split(';')[0] ?? ''
          const separator = pair.indexOf('=')
          if (/Max-Age=0/.test(line)) jar.delete(pair.slice(0, separator))
          else jar.set(pair.slice(0, separator), pair.slice(separator + 1))
        }
        return {
          status: response.statusCode,
          headers: response.headers,
          setCookies,
          body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        }
      },
      async signIn(username) {
        const start = await self.send('POST', '/login/start')
        if (start.status !== 200) throw new Error(`login start: ${JSON.stringify(start.body)}`)
        let page = await pages.follow(await pages.get(String(start.body.authorizationUrl)))
        if (page.html.includes('name="password"')) {
          page = await pages.submit(page, { username, password: PASSWORD })
        }
        if (page.location?.startsWith(REDIRECT_URI) !== true) {
          page = await pages.submit(page, { decision: 'allow' })
        }
        if (page.location?.startsWith(REDIRECT_URI) !== true) {
          throw new Error(`the authorization server did not redirect back (status ${page.status})`)
        }
        return page.location
      },
      async login(username) {
        const landed = await self.signIn(username)
        const end = await self.send('POST', '/login/end', { json: { pageUrl: landed } })
        if (end.status !== 200) throw new Error(`login end: ${JSON.stringify(end.body)}`)
        return String(end.body.csrfToken)
      },
    }
    return self
  }

  return {
    url,
    config,
    secrets,
    outcomes,
    spa,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await tokenHandler.close()
      await agent.close()
    },
  }
}
