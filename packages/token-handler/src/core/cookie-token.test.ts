import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseTokenHandlerConfig } from '../config/schema.js'
import { testConfigInput } from '../test-support/harness.js'
import { createCookieSealer } from './cookie-crypto.js'
import { cookieTokenReaderOptions, createCookieTokenReader } from './cookie-token.js'
import { createCookieJar } from './cookies.js'

const keys = [{ id: 'k1', key: randomBytes(32) }]
let clock = 1_700_000_000_000
const settings = { namePrefix: 'gh', basePath: '/tokenhandler', apiPath: '/' }
const jar = createCookieJar(settings, createCookieSealer({ keys, currentKeyId: 'k1' }), () => clock)
const read = createCookieTokenReader({
  cookies: settings,
  keys,
  currentKeyId: 'k1',
  allowedOrigins: ['https://app.example.com'],
  now: () => clock,
})
const ORIGIN = 'https://app.example.com'
const pair = (line: string) => line.split(';')[0] ?? ''
const access = pair(jar.set('access', 'gat_opaque', 300))
const csrf = pair(jar.set('csrf', 'csrf-token', 3600))
const cookieHeader = `${access}; ${csrf}`

function failure(request: Parameters<typeof read>[0]): { code: string; status: number } {
  try {
    read(request)
  } catch (error) {
    const { code, status } = error as { code: string; status: number }
    return { code, status }
  }
  return { code: 'accepted', status: 200 }
}

describe('cookie → token for the gateway', () => {
  it('returns the opaque access token for a GET, with or without an allowed Origin', () => {
    const request = { cookieHeader, method: 'GET', origin: undefined, csrfHeader: undefined }
    expect(read(request)).toBe('gat_opaque')
    expect(read({ ...request, origin: ORIGIN })).toBe('gat_opaque')
  })

  it('returns it for a POST with an allowed Origin and the matching CSRF header', () => {
    expect(read({ cookieHeader, method: 'POST', origin: ORIGIN, csrfHeader: 'csrf-token' })).toBe(
      'gat_opaque',
    )
  })

  it('refuses state-changing requests without Origin, with Origin: null or a foreign one', () => {
    for (const origin of [undefined, 'null', 'https://evil.example']) {
      expect(failure({ cookieHeader, method: 'DELETE', origin, csrfHeader: 'csrf-token' })).toEqual(
        {
          code: 'origin_not_allowed',
          status: 403,
        },
      )
    }
    expect(
      failure({ cookieHeader, method: 'GET', origin: 'null', csrfHeader: undefined }).code,
    ).toBe('origin_not_allowed')
  })

  it('refuses state-changing requests with a missing or wrong CSRF header', () => {
    for (const csrfHeader of [undefined, 'other-token']) {
      expect(failure({ cookieHeader, method: 'PUT', origin: ORIGIN, csrfHeader })).toEqual({
        code: 'csrf_failed',
        status: 401,
      })
    }
    expect(
      failure({ cookieHeader: access, method: 'POST', origin: ORIGIN, csrfHeader: 'csrf-token' })
        .code,
    ).toBe('csrf_failed')
  })

  it('answers access_token_expired for a missing or expired access cookie, so the SPA refreshes', () => {
    expect(
      failure({ cookieHeader: csrf, method: 'GET', origin: ORIGIN, csrfHeader: undefined }),
    ).toEqual({
      code: 'access_token_expired',
      status: 401,
    })
    clock += 301_000
    expect(
      failure({ cookieHeader, method: 'GET', origin: ORIGIN, csrfHeader: undefined }).code,
    ).toBe('access_token_expired')
    clock -= 301_000
  })

  it('refuses tampered and swapped cookies with invalid_cookie', () => {
    const [name, value = ''] = access.split('=')
    const flipped = `${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`
    expect(
      failure({
        cookieHeader: `${name}=${flipped}`,
        method: 'GET',
        origin: undefined,
        csrfHeader: undefined,
      }),
    ).toEqual({ code: 'invalid_cookie', status: 401 })
    const refreshValue = pair(jar.set('refresh', 'grt_x', 3600)).split('=')[1]
    expect(
      failure({
        cookieHeader: `${name}=${refreshValue}`,
        method: 'GET',
        origin: undefined,
        csrfHeader: undefined,
      }).code,
    ).toBe('invalid_cookie')
  })

  it('derives its options from the token handler configuration', () => {
    const config = parseTokenHandlerConfig(testConfigInput())
    const options = cookieTokenReaderOptions(config, keys)
    expect(options.csrfHeaderName).toBe('x-gatehouse-csrf')
    expect(options.cookies.basePath).toBe('/tokenhandler')
    expect(options.allowedOrigins).toEqual(['https://app.test'])
  })
})
