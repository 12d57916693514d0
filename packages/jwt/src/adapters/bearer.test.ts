import { describe, expect, it } from 'vitest'
import {
  AccessDenied,
  BearerError,
  GatehouseError,
  InsufficientScope,
  InvalidBearerRequest,
  KeySetUnavailable,
  MissingClaim,
  MissingToken,
  TokenExpired,
} from '../errors.js'
import {
  createTestKey,
  signAccessToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../test-support/test-issuer.js'
import { createJwtValidator } from '../validator.js'
import {
  authenticateRequest,
  type BearerRequest,
  checkChallengeOptions,
  checkScopes,
  extractBearerToken,
  notifyError,
  renderBearerError,
} from './bearer.js'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXNlY3JldA'

function request(headers: readonly string[], url = '/orders', body?: unknown): BearerRequest {
  return body === undefined ? { rawHeaders: headers, url } : { rawHeaders: headers, url, body }
}

function failure(input: BearerRequest): BearerError {
  try {
    extractBearerToken(input)
  } catch (error) {
    if (error instanceof BearerError) return error
    throw error
  }
  throw new Error('expected extractBearerToken to throw')
}

function reasonOf(input: BearerRequest): string {
  const error = failure(input)
  // Whatever the reason, the message never repeats the token or a part of it.
  expect(error.message).not.toContain(TOKEN.split('.')[2])
  expect(error.message).not.toContain(TOKEN.split('.')[0])
  return error.reason
}

describe('extractBearerToken', () => {
  it.each([
    ['Bearer', `Bearer ${TOKEN}`],
    ['bearer (RFC 7235: the scheme is case-insensitive)', `bearer ${TOKEN}`],
    ['BEARER', `BEARER ${TOKEN}`],
    ['several spaces (1*SP)', `Bearer    ${TOKEN}`],
    ['surrounding whitespace (OWS)', ` \tBearer ${TOKEN}\t `],
  ])('returns the token for %s', (_name, value) => {
    expect(extractBearerToken(request(['Authorization', value]))).toBe(TOKEN)
  })

  it('accepts every b64token character and trailing "=" padding', () => {
    const token = 'aZ09-._~+/=='
    expect(extractBearerToken(request(['authorization', `Bearer ${token}`]))).toBe(token)
  })

  it.each([
    ['no Authorization header', []],
    ['an empty Authorization header', ['Authorization', '']],
    ['a Basic credential', ['Authorization', 'Basic dXNlcjpwYXNz']],
    ['a bare Basic scheme', ['Authorization', 'Basic']],
    ['a DPoP-bound token (another scheme)', ['Authorization', `DPoP ${TOKEN}`]],
    ['a scheme that merely starts with Bearer', ['Authorization', `BearerToken ${TOKEN}`]],
    ['a Proxy-Authorization header only', ['Proxy-Authorization', `Bearer ${TOKEN}`]],
  ])('throws MissingToken (no error code) for %s', (_name, headers) => {
    const error = failure(request(headers))
    expect(error).toBeInstanceOf(MissingToken)
    expect(error.status).toBe(401)
  })

  it.each([
    ['"Bearer" and no token', 'Bearer'],
    ['"Bearer " and no token', 'Bearer   '],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
    ['two credentials joined by a comma', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
    ['a tab instead of a space', `Bearer\t${TOKEN}`],
    ['a comma right after the scheme', `Bearer,${TOKEN}`],
    ['"=" inside the token', 'Bearer abc=def'],
    ['padding only', 'Bearer ==='],
    ['a quoted token', `Bearer "${TOKEN}"`],
    ['non-ASCII in the token', `Bearer ${TOKEN}é`],
    ['a NUL byte in the token', `Bearer ${TOKEN}\u0000x`],
    ['no scheme at all', `=${TOKEN}`],
  ])('throws invalid_request (bearer.malformed_header) for %s', (_name, value) => {
    const error = failure(request(['Authorization', value]))
    expect(error).toBeInstanceOf(InvalidBearerRequest)
    expect(error.status).toBe(400)
    expect(error.code).toBe('invalid_request')
    expect(error.reason).toBe('bearer.malformed_header')
  })

  it.each([
    [
      'two Bearer headers',
      ['Authorization', `Bearer ${TOKEN}`, 'Authorization', `Bearer ${TOKEN}`],
    ],
    ['names in different case', ['authorization', `Bearer ${TOKEN}`, 'AUTHORIZATION', 'Bearer x']],
    [
      'a Basic and a Bearer header',
      ['Authorization', 'Basic dXNlcjpwYXNz', 'Authorization', `Bearer ${TOKEN}`],
    ],
    ['an empty second header', ['Authorization', `Bearer ${TOKEN}`, 'Authorization', '']],
    [
      'three headers among others',
      [
        'Host',
        'a',
        'Authorization',
        'x',
        'Accept',
        '*/*',
        'Authorization',
        'y',
        'authorization',
        'z',
      ],
    ],
  ])('throws invalid_request (bearer.multiple_headers) for %s', (_name, headers) => {
    expect(reasonOf(request(headers))).toBe('bearer.multiple_headers')
  })

  it.each([
    ['alone', `/orders?access_token=${TOKEN}`],
    ['after another parameter', `/orders?page=2&access_token=${TOKEN}`],
    ['in upper case', `/orders?ACCESS_TOKEN=${TOKEN}`],
    ['percent-encoded', `/orders?access%5Ftoken=${TOKEN}`],
    ['with every letter percent-encoded', `/orders?%61%63%63%65%73%73%5F%74%6F%6B%65%6E=${TOKEN}`],
    ['with an empty value', '/orders?access_token='],
    ['without a value', '/orders?access_token'],
    ['as an array, access_token[]', `/orders?access_token[]=${TOKEN}`],
    ['in absolute-form', `http://api.test/orders?access_token=${TOKEN}`],
  ])(
    'throws invalid_request (bearer.token_in_query) for access_token in the query %s',
    (_name, url) => {
      expect(reasonOf(request([], url))).toBe('bearer.token_in_query')
      // A valid header next to it does not make the query token acceptable.
      expect(reasonOf(request(['Authorization', `Bearer ${TOKEN}`], url))).toBe(
        'bearer.token_in_query',
      )
    },
  )

  it.each([
    ['a parameter whose value is "access_token"', '/orders?field=access_token'],
    ['a parameter that contains the name', '/orders?my_access_token=1'],
    ['the name in the path', '/access_token/orders'],
    ['the name in the fragment', '/orders#access_token=x'],
  ])('does not mistake %s for a query token', (_name, url) => {
    expect(extractBearerToken(request(['Authorization', `Bearer ${TOKEN}`], url))).toBe(TOKEN)
  })

  it.each([
    ['a parsed form or JSON body', { access_token: TOKEN }],
    ['a body with other members too', { grant: 'x', access_token: TOKEN }],
    [
      'a null-prototype body (querystring)',
      Object.assign(Object.create(null), { access_token: TOKEN }),
    ],
    ['a nested qs body, access_token[x]', { access_token: { x: TOKEN } }],
    ['upper-case member', { ACCESS_TOKEN: TOKEN }],
  ])('throws invalid_request (bearer.token_in_body) for %s', (_name, body) => {
    expect(reasonOf(request([], '/orders', body))).toBe('bearer.token_in_body')
    expect(reasonOf(request(['Authorization', `Bearer ${TOKEN}`], '/orders', body))).toBe(
      'bearer.token_in_body',
    )
  })

  it.each([
    ['no body', undefined],
    ['a body without access_token', { order: 1 }],
    ['an array body', ['access_token']],
    ['a string body', `access_token=${TOKEN}`],
    ['a Buffer body', Buffer.from(`access_token=${TOKEN}`)],
    ['null', null],
  ])('leaves %s alone', (_name, body) => {
    expect(extractBearerToken(request(['Authorization', `Bearer ${TOKEN}`], '/', body))).toBe(TOKEN)
  })

  it('checks for duplicate headers before anything else', () => {
    const headers = ['Authorization', 'Basic x', 'Authorization', 'Basic y']
    expect(reasonOf(request(headers, `/?access_token=${TOKEN}`))).toBe('bearer.multiple_headers')
  })
})

const OPTIONS = { realm: 'orders' }

describe('renderBearerError', () => {
  it('answers a missing token with a challenge without an error code (RFC 6750 §3.1)', () => {
    const rendered = renderBearerError(new MissingToken(), OPTIONS)
    expect(rendered.status).toBe(401)
    expect(rendered.headers).toEqual({
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'www-authenticate': 'Bearer realm="orders"',
    })
    expect(JSON.parse(rendered.body)).toEqual({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'an access token is required (Authorization: Bearer)',
      error: 'missing_token',
    })
  })

  it('answers a malformed request with 400 invalid_request', () => {
    const error = new InvalidBearerRequest('bearer.multiple_headers', 'two headers')
    const rendered = renderBearerError(error, OPTIONS)
    expect(rendered.status).toBe(400)
    expect(rendered.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="invalid_request", error_description="two headers"',
    )
    expect(JSON.parse(rendered.body)).toMatchObject({
      title: 'Bad Request',
      error: 'invalid_request',
    })
  })

  it('answers an invalid token with 401 invalid_token', () => {
    const rendered = renderBearerError(new TokenExpired(), OPTIONS)
    expect(rendered.status).toBe(401)
    expect(rendered.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="invalid_token", error_description="the access token expired"',
    )
  })

  it('answers insufficient scope with 403 and every required scope in scope="…"', () => {
    const rendered = renderBearerError(new InsufficientScope(['orders:write', 'admin']), OPTIONS)
    expect(rendered.status).toBe(403)
    expect(rendered.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="insufficient_scope", error_description="the access token does not carry the scope this request requires", scope="orders:write admin"',
    )
    expect(JSON.parse(rendered.body)).toMatchObject({ title: 'Forbidden', status: 403 })
  })

  it('adds resource_metadata (RFC 9728 §5.1) last when configured', () => {
    const rendered = renderBearerError(new MissingToken(), {
      realm: 'orders',
      resourceMetadataUrl: new URL('https://api.test/.well-known/oauth-protected-resource'),
    })
    expect(rendered.headers['www-authenticate']).toBe(
      'Bearer realm="orders", resource_metadata="https://api.test/.well-known/oauth-protected-resource"',
    )
  })

  it('answers a policy denial with 403 access_denied and no challenge', () => {
    const rendered = renderBearerError(new AccessDenied('cancel'), OPTIONS)
    expect(rendered.status).toBe(403)
    expect(rendered.headers['www-authenticate']).toBeUndefined()
    expect(JSON.parse(rendered.body)).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'the access token does not allow this action on this resource',
      error: 'access_denied',
    })
  })

  it('answers an unavailable key set with 503, Retry-After and no challenge', () => {
    const rendered = renderBearerError(
      new KeySetUnavailable({ detail: 'no keys from https://x' }),
      {
        ...OPTIONS,
        retryAfterSeconds: 30,
      },
    )
    expect(rendered.status).toBe(503)
    expect(rendered.headers['retry-after']).toBe('30')
    expect(rendered.headers['www-authenticate']).toBeUndefined()
    expect(rendered.body).not.toContain('https://x')
    expect(JSON.parse(rendered.body)).toMatchObject({
      title: 'Service Unavailable',
      error: 'temporarily_unavailable',
    })
  })

  it('renders an unexpected error as a generic 500: no message, detail, cause or stack', () => {
    const error = new Error(`database password hunter2, token ${TOKEN}`, { cause: 'cause-text' })
    const rendered = renderBearerError(error, OPTIONS)
    expect(rendered.status).toBe(500)
    expect(rendered.headers['www-authenticate']).toBeUndefined()
    expect(JSON.parse(rendered.body)).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'the server could not process the request',
      error: 'server_error',
    })
    for (const thrown of ['not an error', undefined, null, { status: 401, message: 'fake' }]) {
      expect(renderBearerError(thrown, OPTIONS).status).toBe(500)
    }
  })

  it('renders a Gatehouse error that is not exposed as the generic 500', () => {
    class UpstreamBroken extends GatehouseError {
      readonly code = 'upstream_broken'
      readonly status = 502
      override readonly expose = false
    }
    const rendered = renderBearerError(new UpstreamBroken('internal host db-7 refused'), OPTIONS)
    expect(rendered.status).toBe(500)
    expect(rendered.body).not.toContain('db-7')
  })

  it('never renders detail, cause or stack of a Gatehouse error', () => {
    const error = new TokenExpired({
      detail: 'exp 1700000000 for jti abc',
      cause: new Error('jose'),
    })
    const rendered = renderBearerError(error, OPTIONS)
    expect(rendered.body).not.toMatch(/1700000000|jose|\n\s+at /)
  })

  it('quotes auth-params as RFC 9110 quoted-strings and strips CR/LF (no header injection)', () => {
    const rendered = renderBearerError(new MissingToken(), {
      realm: 'a "quoted" \\ realm\r\nSet-Cookie: session=1',
    })
    expect(rendered.headers['www-authenticate']).toBe(
      'Bearer realm="a \\"quoted\\" \\\\ realmSet-Cookie: session=1"',
    )
  })

  it('keeps error_description inside the RFC 6750 §3 character set', () => {
    const rendered = renderBearerError(new MissingClaim('sub"\\é\n'), OPTIONS)
    expect(rendered.headers['www-authenticate']).toBe(
      `Bearer realm="orders", error="invalid_token", error_description="the access token lacks the required 'sub'' claim"`,
    )
  })
})

describe('authenticateRequest', () => {
  it('validates the bearer token with a real validator and checks required scopes', async () => {
    const key = await createTestKey('ES256')
    const validator = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwks: { keys: [key.publicJwk] },
    })
    const token = await signAccessToken(key)
    const input = request(['Authorization', `Bearer ${token}`])
    const verified = await authenticateRequest(validator, input, { scopes: ['orders:read'] })
    expect(verified.subject).toBe('user-1')
    await expect(
      authenticateRequest(validator, input, { scopes: ['orders:write'] }),
    ).rejects.toEqual(new InsufficientScope(['orders:write']))
    await expect(
      authenticateRequest(validator, request(['Authorization', `Bearer ${token}x`])),
    ).rejects.toMatchObject({ code: 'invalid_token' })
  })

  it('never calls the validator when the request is refused', async () => {
    let calls = 0
    const validator = {
      async validate(): Promise<never> {
        calls++
        throw new Error('not reached')
      },
    }
    await expect(
      authenticateRequest(validator, request([], `/?access_token=${TOKEN}`)),
    ).rejects.toBeInstanceOf(InvalidBearerRequest)
    expect(calls).toBe(0)
  })
})

describe('start-up checks', () => {
  it('refuses realms and metadata URLs that could not be sent safely', () => {
    expect(() => checkChallengeOptions({ realm: '' })).toThrow(TypeError)
    expect(() => checkChallengeOptions({ realm: 'x\ny' })).toThrow(TypeError)
    expect(() => checkChallengeOptions({ realm: 'é' })).toThrow(TypeError)
    expect(() => checkChallengeOptions({ realm: 'x', resourceMetadataUrl: 'nope' })).toThrow(
      TypeError,
    )
    expect(() => checkChallengeOptions({ realm: 'x', resourceMetadataUrl: 'ftp://a/b' })).toThrow(
      TypeError,
    )
    expect(() => checkChallengeOptions({ realm: 'x', retryAfterSeconds: -1 })).toThrow(TypeError)
    expect(checkChallengeOptions({ realm: 'orders' })).toEqual({ realm: 'orders' })
  })

  it('refuses scopes that are not RFC 6749 scope-tokens', () => {
    expect(() => checkScopes(['a b'], 'test')).toThrow(TypeError)
    expect(() => checkScopes(['a"b'], 'test')).toThrow(TypeError)
    expect(() => checkScopes([''], 'test')).toThrow(TypeError)
    expect(checkScopes(['orders:read', 'https://api.test/x'], 'test')).toEqual([
      'orders:read',
      'https://api.test/x',
    ])
  })

  it('ignores an onError observer that throws', () => {
    expect(() =>
      notifyError(
        () => {
          throw new Error('logger down')
        },
        new MissingToken(),
        {},
      ),
    ).not.toThrow()
  })
})
