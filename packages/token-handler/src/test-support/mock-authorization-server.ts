/**
 * An authorization server for the token handler's unit tests, answered through undici's
 * MockAgent (STYLE.md §6: outbound HTTP blocked, nothing leaves the process). It keeps just
 * enough protocol state to make the attacks meaningful: single-use codes bound to the PKCE
 * challenge, rotating refresh tokens with reuse detection, and a record of every call. The real
 * authorization server is driven by the e2e tests under test/e2e/token-handler.
 */
import { createHash, randomBytes } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { MockAgent } from 'undici'

export const ISSUER = 'https://as.test'
export const CLIENT_ID = 'spa-agent'
export const CLIENT_SECRET = 'gcs_test-secret'

export interface RecordedCall {
  readonly path: string
  readonly body: URLSearchParams
  readonly authorization: string | undefined
}

export interface MockAuthorizationServerOptions {
  readonly par?: boolean
  readonly requirePar?: boolean
  readonly accessTokenSeconds?: number
  /** Delay of token-endpoint answers, to hold concurrent refreshes in flight. */
  readonly tokenDelayMs?: number
  /** Sign ID tokens with a key that is not in the JWKS (a forged ID token). */
  readonly forgeIdTokens?: boolean
}

export interface MockAuthorizationServer {
  readonly agent: MockAgent
  readonly calls: RecordedCall[]
  callsTo(path: string): RecordedCall[]
  /** Plays the user logging in: returns the URL the browser would land on. */
  authorize(authorizationUrl: string, subject?: string): Promise<string>
  /** Makes the next calls fail at the transport level (the server is down). */
  goDown(kind: 'unreachable' | 'http-500' | 'http-503'): void
  close(): Promise<void>
}

interface IssuedCode {
  readonly challenge: string
  readonly redirectUri: string
  readonly idToken: string
  used: boolean
}

export async function startMockAuthorizationServer(
  options: MockAuthorizationServerOptions = {},
): Promise<MockAuthorizationServer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const forger = (await generateKeyPair('ES256')).privateKey
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
  const agent = new MockAgent()
  agent.disableNetConnect()
  const pool = agent.get(ISSUER)
  const calls: RecordedCall[] = []
  const pushed = new Map<string, URLSearchParams>()
  const codes = new Map<string, IssuedCode>()
  const liveRefreshTokens = new Set<string>()
  const usedRefreshTokens = new Set<string>()
  let down: 'unreachable' | 'http-500' | 'http-503' | null = null
  const accessSeconds = options.accessTokenSeconds ?? 300

  const metadata = {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
    revocation_endpoint: `${ISSUER}/revoke`,
    end_session_endpoint: `${ISSUER}/logout`,
    jwks_uri: `${ISSUER}/jwks`,
    ...(options.par === true || options.requirePar === true
      ? { pushed_authorization_request_endpoint: `${ISSUER}/par` }
      : {}),
    require_pushed_authorization_requests: options.requirePar === true,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['ES256'],
    authorization_response_iss_parameter_supported: true,
  }
  const json = (statusCode: number, data: unknown) => ({
    statusCode,
    data: JSON.stringify(data),
    responseOptions: { headers: { 'content-type': 'application/json' } },
  })

  function record(path: string, opts: { body?: unknown; headers?: unknown }): URLSearchParams {
    const body = new URLSearchParams(typeof opts.body === 'string' ? opts.body : '')
    calls.push({ path, body, authorization: headerValue(opts.headers, 'authorization') })
    return body
  }

  function clientAuthenticated(call: RecordedCall | undefined): boolean {
    const encoded = /^Basic (.+)$/.exec(call?.authorization ?? '')?.[1]
    if (encoded === undefined) return false
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    const [id = '', secret = ''] = Buffer.from(encoded, 'base64').toString('utf8').split(':')
    return decodeURIComponent(id) === CLIENT_ID && decodeURIComponent(secret) === CLIENT_SECRET
  }

  function outage() {
    if (down === 'unreachable') throw new Error('connect ECONNREFUSED')
    return { statusCode: down === 'http-503' ? 503 : 500, data: 'unavailable' }
  }

  pool
    .intercept({ path: '/.well-known/openid-configuration', method: 'GET' })
    .reply(() => (down === null ? json(200, metadata) : outage()))
    .persist()
  pool
    .intercept({ path: '/jwks', method: 'GET' })
    .reply(200, JSON.stringify({ keys: [jwk] }))
    .persist()
  pool
    .intercept({ path: '/par', method: 'POST' })
    .reply((opts) => {
      const body = record('/par', opts)
      if (!clientAuthenticated(calls.at(-1))) return json(401, { error: 'invalid_client' })
      const requestUri = `urn:ietf:params:oauth:request_uri:${randomBytes(8).toString('hex')}`
      pushed.set(requestUri, body)
      return json(201, { request_uri: requestUri, expires_in: 60 })
    })
    .persist()
  const tokenScope = pool.intercept({ path: '/token', method: 'POST' }).reply((opts) => {
    const body = record('/token', opts)
    if (down !== null) return outage()
    if (!clientAuthenticated(calls.at(-1))) return json(401, { error: 'invalid_client' })
    if (body.get('grant_type') === 'authorization_code') {
      const code = codes.get(body.get('code') ?? '')
      const verifier = body.get('code_verifier') ?? ''
      const challenge = createHash('sha256').update(verifier).digest('base64url')
      if (code === undefined || code.used || code.challenge !== challenge) {
        if (code !== undefined) code.used = true
        return json(400, { error: 'invalid_grant' })
      }
      if (code.redirectUri !== body.get('redirect_uri'))
        return json(400, { error: 'invalid_grant' })
      code.used = true
      return json(200, tokens(code.idToken))
    }
    if (body.get('grant_type') === 'refresh_token') {
      const presented = body.get('refresh_token') ?? ''
      if (!liveRefreshTokens.has(presented)) {
        if (usedRefreshTokens.has(presented)) liveRefreshTokens.clear() // reuse: family revoked
        return json(400, { error: 'invalid_grant' })
      }
      liveRefreshTokens.delete(presented)
      usedRefreshTokens.add(presented)
      return json(200, tokens(undefined))
    }
    return json(400, { error: 'unsupported_grant_type' })
  })
  if (options.tokenDelayMs !== undefined) tokenScope.delay(options.tokenDelayMs)
  tokenScope.persist()
  pool
    .intercept({ path: '/revoke', method: 'POST' })
    .reply((opts) => {
      const body = record('/revoke', opts)
      if (down !== null) return outage()
      liveRefreshTokens.delete(body.get('token') ?? '')
      return { statusCode: 200, data: '' }
    })
    .persist()

  function tokens(idToken: string | undefined) {
    const refreshToken = `grt_${randomBytes(24).toString('base64url')}`
    liveRefreshTokens.add(refreshToken)
    return {
      access_token: `gat_${randomBytes(24).toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: accessSeconds,
      refresh_token: refreshToken,
      scope: 'openid profile',
      ...(idToken === undefined ? {} : { id_token: idToken }),
    }
  }

  return {
    agent,
    calls,
    callsTo: (path) => calls.filter((call) => call.path === path),
    async authorize(authorizationUrl, subject = 'user-1') {
      const url = new URL(authorizationUrl)
      const requestUri = url.searchParams.get('request_uri')
      const parameters = requestUri === null ? url.searchParams : pushed.get(requestUri)
      if (parameters === undefined) throw new Error('unknown request_uri')
      const code = randomBytes(16).toString('base64url')
      const now = Math.floor(Date.now() / 1000)
      const idToken = await new SignJWT({ nonce: parameters.get('nonce'), name: 'Ada Lovelace' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(CLIENT_ID)
        .setSubject(subject)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(options.forgeIdTokens === true ? forger : privateKey)
      codes.set(code, {
        challenge: parameters.get('code_challenge') ?? '',
        redirectUri: parameters.get('redirect_uri') ?? '',
        idToken,
        used: false,
      })
      const callback = new URL(parameters.get('redirect_uri') ?? '')
      callback.searchParams.set('code', code)
      callback.searchParams.set('state', parameters.get('state') ?? '')
      callback.searchParams.set('iss', ISSUER)
      return callback.href
    },
    goDown(kind) {
      down = kind
    },
    close: () => agent.close(),
  }
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  if (Array.isArray(headers)) {
    for (let index = 0; index < headers.length; index += 2) {
      if (String(headers[index]).toLowerCase() === name) return String(headers[index + 1])
    }
    return undefined
  }
  if (typeof headers === 'object' && headers !== null) {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === name) return String(value)
    }
  }
  return undefined
}
