/**
 * Test support for the middleware adapters: one set of real keys, validators and tokens, the
 * attack scenarios every adapter must answer identically, and clients that talk to a real
 * server on 127.0.0.1 (fetch, and a raw socket for requests fetch refuses to send).
 */
import { connect, createServer as createNetServer } from 'node:net'
import { createCertificateAuthority } from '@gatehouse/dev-ca'
import { expect } from 'vitest'
import {
  AccessDenied,
  AlgorithmNotAllowed,
  AudienceMismatch,
  InsufficientScope,
  type InvalidBearerRequest,
  KeySetUnavailable,
  MissingToken,
  TokenExpired,
} from '../../errors.js'
import { claim, definePolicy } from '../../policies/claims.js'
import {
  createTestKey,
  defaultClaims,
  rawToken,
  signAccessToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../../test-support/test-issuer.js'
import { createJwtValidator, type JwtValidator } from '../../validator.js'

export const REALM = 'orders'
export const RESOURCE_METADATA_URL = 'https://api.test/.well-known/oauth-protected-resource/orders'
export const CHALLENGE_OPTIONS = { realm: REALM, resourceMetadataUrl: RESOURCE_METADATA_URL }

/** Paths every adapter test server serves the same way. */
export const PATHS = {
  /** jwtAuth with no scopes; answers the verified token as JSON. */
  orders: '/orders',
  /** jwtAuth requiring orders:write, which the default token lacks. */
  write: '/write',
  /** A handler that asks the order policy, which denies every token (the order is user-2's). */
  cancel: '/orders/42/cancel',
  /** jwtAuth with a validator whose JWKS endpoint is down. */
  outage: '/outage',
} as const

/** The claims policy the `cancel` handlers apply: only the order's owner may cancel it. */
export const orderPolicy = definePolicy({
  cancel: claim('sub').equals((order: { readonly ownerId: string }) => order.ownerId),
})
export const OTHER_USERS_ORDER = { ownerId: 'user-2' }

export interface AdapterFixture {
  readonly validator: JwtValidator
  /** Validates against an https JWKS URI on a closed local port (the dev CA is trusted). */
  readonly unavailableValidator: JwtValidator
  readonly tokens: {
    readonly valid: string
    readonly expired: string
    readonly wrongAudience: string
    readonly algNone: string
  }
}

export async function createAdapterFixture(): Promise<AdapterFixture> {
  const key = await createTestKey('ES256')
  const silent = { warn() {}, info() {} }
  const validator = createJwtValidator({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwks: { keys: [key.publicJwk] },
    logger: silent,
  })
  const ca = await createCertificateAuthority('Gatehouse adapter test CA')
  const unavailableValidator = createJwtValidator({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwksUri: `https://127.0.0.1:${await closedPort()}/jwks`,
    jwksOptions: { ca: ca.cert, timeoutMs: 2_000 },
    logger: silent,
  })
  const hourAgo = Date.now() - 3_600_000
  return {
    validator,
    unavailableValidator,
    tokens: {
      valid: await signAccessToken(key),
      expired: await signAccessToken(key, { now: hourAgo }),
      wrongAudience: await signAccessToken(key, { claims: { aud: 'https://api.test/billing' } }),
      algNone: rawToken({ alg: 'none', typ: 'at+jwt', kid: key.kid }, defaultClaims()),
    },
  }
}

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface ExpectedFailure {
  readonly status: number
  readonly error: string
  readonly detail: string
  /** The exact `WWW-Authenticate` value, or `null` when there must be none. */
  readonly challenge: string | null
}

/** The exact challenge Gatehouse sends with `CHALLENGE_OPTIONS`. */
export function challenge(params: { error?: string; description?: string; scope?: string } = {}) {
  const parts = [`realm="${REALM}"`]
  if (params.error !== undefined) parts.push(`error="${params.error}"`)
  if (params.description !== undefined) parts.push(`error_description="${params.description}"`)
  if (params.scope !== undefined) parts.push(`scope="${params.scope}"`)
  parts.push(`resource_metadata="${RESOURCE_METADATA_URL}"`)
  return `Bearer ${parts.join(', ')}`
}

function invalidToken(error: Error): ExpectedFailure {
  return {
    status: 401,
    error: 'invalid_token',
    detail: error.message,
    challenge: challenge({ error: 'invalid_token', description: error.message }),
  }
}

function invalidRequest(reason: InvalidBearerRequest['reason']): ExpectedFailure {
  const message = {
    'bearer.malformed_header': 'the Authorization header is not a well-formed Bearer credential',
    'bearer.multiple_headers': 'the request carries more than one Authorization header',
    'bearer.token_in_query':
      'access tokens are accepted in the Authorization header only, never in the URL',
    'bearer.token_in_body':
      'access tokens are accepted in the Authorization header only, never in the request body',
  }[reason]
  return {
    status: 400,
    error: 'invalid_request',
    detail: message,
    challenge: challenge({ error: 'invalid_request', description: message }),
  }
}

export const EXPECTED = {
  missing: {
    status: 401,
    error: 'missing_token',
    detail: new MissingToken().message,
    challenge: challenge(),
  },
  malformed: invalidRequest('bearer.malformed_header'),
  multipleHeaders: invalidRequest('bearer.multiple_headers'),
  tokenInQuery: invalidRequest('bearer.token_in_query'),
  tokenInBody: invalidRequest('bearer.token_in_body'),
  expired: invalidToken(new TokenExpired()),
  wrongAudience: invalidToken(new AudienceMismatch()),
  algNone: invalidToken(new AlgorithmNotAllowed()),
  insufficientScope: {
    status: 403,
    error: 'insufficient_scope',
    detail: new InsufficientScope(['orders:write']).message,
    challenge: challenge({
      error: 'insufficient_scope',
      description: new InsufficientScope(['orders:write']).message,
      scope: 'orders:write',
    }),
  },
  accessDenied: {
    status: 403,
    error: 'access_denied',
    detail: new AccessDenied('cancel').message,
    challenge: null,
  },
  unavailable: {
    status: 503,
    error: 'temporarily_unavailable',
    detail: new KeySetUnavailable().message,
    challenge: null,
  },
} satisfies Record<string, ExpectedFailure>

export interface Scenario {
  readonly name: string
  readonly method?: 'GET' | 'POST'
  readonly path: string
  readonly authorization?: (tokens: AdapterFixture['tokens']) => string
  readonly expected: ExpectedFailure
}

/** The failures every adapter must answer byte-for-byte the same way. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'no Authorization header (401, no error code)',
    path: PATHS.orders,
    expected: EXPECTED.missing,
  },
  {
    name: 'a Basic credential instead of Bearer (401, no error code)',
    path: PATHS.orders,
    authorization: () => 'Basic dXNlcjpwYXNzd29yZA==',
    expected: EXPECTED.missing,
  },
  {
    name: 'a Bearer credential with two tokens (400 invalid_request)',
    path: PATHS.orders,
    authorization: (tokens) => `Bearer ${tokens.valid} ${tokens.valid}`,
    expected: EXPECTED.malformed,
  },
  {
    name: 'the token in the query string, no header (400 invalid_request)',
    path: PATHS.orders,
    expected: EXPECTED.tokenInQuery,
  },
  {
    name: 'an expired token (401 invalid_token)',
    path: PATHS.orders,
    authorization: (tokens) => `Bearer ${tokens.expired}`,
    expected: EXPECTED.expired,
  },
  {
    name: 'a token for another audience (401 invalid_token)',
    path: PATHS.orders,
    authorization: (tokens) => `Bearer ${tokens.wrongAudience}`,
    expected: EXPECTED.wrongAudience,
  },
  {
    name: 'an unsigned token with alg none (401 invalid_token)',
    path: PATHS.orders,
    authorization: (tokens) => `Bearer ${tokens.algNone}`,
    expected: EXPECTED.algNone,
  },
  {
    name: 'a token without the required scope (403 insufficient_scope)',
    path: PATHS.write,
    authorization: (tokens) => `bearer ${tokens.valid}`,
    expected: EXPECTED.insufficientScope,
  },
  {
    name: 'a claims policy that denies the token (403 access_denied)',
    method: 'POST',
    path: PATHS.cancel,
    authorization: (tokens) => `Bearer ${tokens.valid}`,
    expected: EXPECTED.accessDenied,
  },
  {
    name: 'an issuer whose JWKS cannot be fetched (503, Retry-After)',
    path: `${PATHS.outage}${PATHS.orders}`,
    authorization: (tokens) => `Bearer ${tokens.valid}`,
    expected: EXPECTED.unavailable,
  },
]

/** The URL of a scenario; the query-string scenario carries the valid token in `access_token`. */
export function scenarioUrl(base: string, scenario: Scenario, tokens: AdapterFixture['tokens']) {
  const query = scenario.expected === EXPECTED.tokenInQuery ? `?access_token=${tokens.valid}` : ''
  return `${base}${scenario.path}${query}`
}

export interface ReceivedResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: string
}

export async function send(url: string, init: RequestInit = {}): Promise<ReceivedResponse> {
  const response = await fetch(url, init)
  return { status: response.status, headers: response.headers, body: await response.text() }
}

/** Sends a hand-written HTTP/1.1 request over a raw socket (e.g. two Authorization headers). */
export function sendRaw(port: number, head: readonly string[]): Promise<ReceivedResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n')
      const headers = new Headers()
      for (const line of lines) {
        const colon = line.indexOf(':')
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) })
    })
    socket.end(`${[...head, 'Host: 127.0.0.1', 'Connection: close'].join('\r\n')}\r\n\r\n`)
  })
}

/** Asserts the exact status, challenge and problem document, and that nothing leaks. */
export function expectBearerFailure(
  response: ReceivedResponse,
  expected: ExpectedFailure,
  fixture: AdapterFixture,
): void {
  expect(response.status).toBe(expected.status)
  expect(response.headers.get('www-authenticate')).toBe(expected.challenge)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(response.headers.get('retry-after')).toBe(expected.status === 503 ? '5' : null)
  expect(JSON.parse(response.body)).toEqual({
    type: 'about:blank',
    title: {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      503: 'Service Unavailable',
    }[expected.status],
    status: expected.status,
    detail: expected.detail,
    error: expected.error,
  })
  expectNoLeak(response, fixture)
}

/** No token, no part of a token's signature, no stack trace in the answer. */
export function expectNoLeak(response: ReceivedResponse, fixture: AdapterFixture): void {
  const everything = `${response.body}\n${[...response.headers].map((pair) => pair.join(': ')).join('\n')}`
  for (const token of Object.values(fixture.tokens)) {
    expect(everything).not.toContain(token)
    const signature = token.split('.')[2] ?? ''
    if (signature !== '') expect(everything).not.toContain(signature)
  }
  expect(everything).not.toMatch(/\n\s+at |\.ts:\d+|node:internal|stack/)
}
