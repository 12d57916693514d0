import fc from 'fast-check'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_HANDLER_ERROR_CODES } from '../errors.js'
import {
  APP_ORIGIN,
  BASE_PATH,
  type Harness,
  REDIRECT_URI,
  startHarness,
} from '../test-support/harness.js'

/**
 * Random requests to the token handler's real node:http server (the authorization server behind
 * it answered through undici's MockAgent): any path, method, body, media type, Origin, cookies and
 * CSRF header end in a JSON answer or a coded problem, never a 500, a stack trace or a token.
 */
let harness: Harness
let sessionCookies: string
let csrf: string
beforeAll(async () => {
  harness = await startHarness()
  const browser = harness.browser()
  csrf = await browser.login()
  sessionCookies = browser.cookieHeader()
})
afterAll(async () => {
  await harness?.close()
})

const STACK_TRACE = /\bat [\w.<>]+ \(|node:internal|\.ts:\d+|\.js:\d+/
const PRINTABLE = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 60,
})
const PATH = fc.oneof(
  fc.constantFrom('/login/start', '/login/end', '/session', '/refresh', '/logout', '/', '/login'),
  PRINTABLE.map((text) => `/${encodeURIComponent(text)}`),
)
const METHOD = fc.constantFrom('GET', 'POST', 'OPTIONS', 'DELETE', 'PUT', 'HEAD')
const CONTENT_TYPE = fc.oneof(
  fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
  ),
  PRINTABLE,
)
const PAGE_URL = fc.oneof(
  fc.constantFrom(
    REDIRECT_URI,
    `${REDIRECT_URI}?code=abc&state=def`,
    `${REDIRECT_URI}?code=abc&state=def&iss=https%3A%2F%2Fevil.test`,
    `${REDIRECT_URI}?error=access_denied&state=x`,
    'javascript:alert(1)',
    'https://evil.test/callback?code=a&state=b',
  ),
  PRINTABLE,
)
const BODY = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  PAGE_URL.map((pageUrl) => JSON.stringify({ pageUrl })),
  fc.constant(`{"pageUrl":"${'a'.repeat(20_000)}"}`),
)
const ORIGIN = fc.constantFrom(
  undefined,
  APP_ORIGIN,
  'null',
  'https://evil.test',
  `${APP_ORIGIN}.evil.test`,
)
const COOKIE = fc.oneof(
  fc.constantFrom(undefined, 'SESSION'),
  PRINTABLE,
  PRINTABLE.map((value) => `__Host-gatehouse-csrf=${value}; __Secure-gatehouse-rt=${value}`),
)
const CSRF = fc.constantFrom(undefined, 'VALID', 'forged', '')

describe('random requests to the token handler (properties)', () => {
  it('answer JSON or a coded problem, never a 500, a stack trace or a token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          path: PATH,
          method: METHOD,
          contentType: CONTENT_TYPE,
          body: BODY,
          origin: ORIGIN,
          cookie: COOKIE,
          csrfHeader: CSRF,
        }),
        async ({ path, method, contentType, body, origin, cookie, csrfHeader }) => {
          const headers: Record<string, string> = {}
          if (contentType !== undefined) headers['content-type'] = contentType
          if (origin !== undefined) headers.origin = origin
          if (cookie !== undefined) headers.cookie = cookie === 'SESSION' ? sessionCookies : cookie
          if (csrfHeader !== undefined)
            headers['x-gatehouse-csrf'] = csrfHeader === 'VALID' ? csrf : csrfHeader
          const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD'
          const response = await request(`${harness.baseUrl}${BASE_PATH}${path}`, {
            method: method as 'GET',
            headers,
            ...(sendsBody ? { body } : {}),
          })
          const text = await response.body.text()
          expect(response.statusCode).not.toBe(500)
          expect(response.statusCode).toBeLessThan(600)
          expect(text).not.toMatch(STACK_TRACE)
          expect(text).not.toMatch(/\b(gat|grt)_[A-Za-z0-9_-]{10,}/)
          if (method !== 'HEAD' && text !== '') {
            const json = JSON.parse(text) as Record<string, unknown>
            if (response.statusCode >= 400) {
              expect(TOKEN_HANDLER_ERROR_CODES).toContain(json.code)
              expect(json.code).not.toBe('internal_error')
            }
          }
          const setCookies = response.headers['set-cookie']
          for (const line of Array.isArray(setCookies)
            ? setCookies
            : setCookies === undefined
              ? []
              : [setCookies]) {
            expect(line).toMatch(/; HttpOnly; Secure; SameSite=Strict/)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
