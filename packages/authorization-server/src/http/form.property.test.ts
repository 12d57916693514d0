import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidRequest } from '../errors.js'
import { basic, startTestServer, type TestServer } from '../test-support/test-server.js'
import { parseForm } from './form.js'

/** Far above any honest parse of these sizes; a runaway pattern would blow through it. */
const GENEROUS_MS = 500
const LIMITS = { maxBodyBytes: 16_384, maxParameterLength: 2048 }
/** RFC 6749 §5.2 codes, plus RFC 8707 §2 invalid_target: all a client may see from /token. */
const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
]
const STACK_TRACE = /\bat [\w.<>]+ \(|node:internal|\.ts:\d+|\.js:\d+/

const NAME = fc.oneof(
  fc.constantFrom('grant_type', 'scope', 'code', 'client_id', 'resource', '%67rant_type', 'a'),
  fc.string({ maxLength: 10 }),
)
const RAW_FORM = fc.oneof(
  fc
    .array(fc.tuple(NAME, fc.string({ maxLength: 30 })), { maxLength: 10 })
    .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&')),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(fc.constantFrom('%', '&', '=', '%2', '+', 'a=%zz&', '%u0041', '&&=='), fc.nat(5000))
    .map(([piece, count]) => piece.repeat(count)),
)

/** The text as Unicode scalar values: lone surrogates become U+FFFD, as in form encoding. */
function wellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8')
}

function parse(body: string, repeatable?: ReadonlySet<string>) {
  const started = performance.now()
  try {
    return parseForm(body, LIMITS, repeatable)
  } finally {
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  }
}

describe('parseForm (properties)', () => {
  it('parses any body into parameters or refuses it with invalid_request, never another error', () => {
    fc.assert(
      fc.property(RAW_FORM, (body) => {
        try {
          const { single } = parse(body)
          for (const [name, value] of single) {
            expect(value).not.toBe('')
            expect(name.length).toBeLessThanOrEqual(256)
            expect(value.length).toBeLessThanOrEqual(LIMITS.maxParameterLength)
          }
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequest)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('reads back what a client encoded, for any names and values', () => {
    const TEXT = fc.string({ unit: 'binary', maxLength: 60 })
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(TEXT, TEXT), {
          selector: ([name]) => wellFormed(name),
          maxLength: 8,
        }),
        (pairs) => {
          const { single } = parse(new URLSearchParams(pairs).toString())
          for (const [name, value] of pairs) {
            // Form encoding carries Unicode scalar values: a lone surrogate arrives as U+FFFD.
            const expected = wellFormed(value)
            expect(single.get(wellFormed(name))).toBe(expected === '' ? undefined : expected)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('refuses a parameter sent twice, however its name is encoded', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id'),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.nat(),
        (name, first, second, seed) => {
          const index = seed % name.length
          const hex = name.charCodeAt(index).toString(16)
          const encoded = `${name.slice(0, index)}%${seed % 2 === 0 ? hex : hex.toUpperCase()}${name.slice(index + 1)}`
          const body = `${name}=${encodeURIComponent(first)}&${encoded}=${encodeURIComponent(second)}`
          expect(() => parse(body)).toThrow(InvalidRequest)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('POST /token end to end with random bodies (properties)', () => {
  let as: TestServer
  let secret: string
  beforeAll(async () => {
    as = await startTestServer()
    secret = (await as.createClient({
      clientId: 'svc',
      grantTypes: ['client_credentials', 'refresh_token'],
    })) as string
  })
  afterAll(async () => {
    await as.close()
  })

  const PRINTABLE = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength: 60,
  })
  const CONTENT_TYPE = fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'APPLICATION/X-WWW-FORM-URLENCODED',
      'application/json',
      'multipart/form-data; boundary=x',
      'text/plain',
      '',
    ),
    PRINTABLE,
  )
  const AUTHORIZATION = fc.oneof(
    fc.constant(undefined),
    fc.constant('valid'),
    fc.string({ maxLength: 40 }).map((text) => `Basic ${Buffer.from(text).toString('base64')}`),
    PRINTABLE,
  )
  const BODY = fc.oneof(
    RAW_FORM,
    // Well-formed requests with hostile extras, so the grant code paths run too.
    fc
      .tuple(
        fc.constantFrom(
          'client_credentials',
          'refresh_token',
          'authorization_code',
          'urn:ietf:params:oauth:grant-type:token-exchange',
        ),
        fc.array(fc.tuple(NAME, PRINTABLE), { maxLength: 3 }),
      )
      .map(([grant, extra]) => new URLSearchParams([['grant_type', grant], ...extra]).toString()),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  )

  it('answers any body, media type and credentials with an RFC 6749 error JSON or tokens, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        BODY,
        CONTENT_TYPE,
        AUTHORIZATION,
        async (body, contentType, authorization) => {
          const headers: Record<string, string> = { 'content-type': contentType }
          if (authorization !== undefined) {
            headers.authorization = authorization === 'valid' ? basic('svc', secret) : authorization
          }
          const response = await fetch(`${as.url}/token`, { method: 'POST', headers, body })
          const text = await response.text()
          expect(response.status).toBeLessThan(500)
          expect(text).not.toMatch(STACK_TRACE)
          expect(response.headers.get('cache-control')).toContain('no-store')
          const json = JSON.parse(text) as Record<string, unknown>
          if (response.status === 200) {
            expect(json).toHaveProperty('access_token')
          } else {
            expect(TOKEN_ERRORS).toContain(json.error)
            if (json.error_description !== undefined) {
              expect(typeof json.error_description).toBe('string')
              expect(json.error_description).not.toContain(secret)
            }
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  /** RFC 7662, RFC 7009 and RFC 9126 errors are RFC 6749 §5.2 codes, plus unsupported_token_type. */
  const ENDPOINT_ERRORS = [...TOKEN_ERRORS, 'unsupported_token_type', 'invalid_request_uri']

  it('answers any body at /introspect, /revoke and /par with its success shape or an OAuth error JSON, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/introspect', '/revoke', '/par'),
        BODY,
        CONTENT_TYPE,
        AUTHORIZATION,
        async (path, body, contentType, authorization) => {
          const headers: Record<string, string> = { 'content-type': contentType }
          if (authorization !== undefined) {
            headers.authorization = authorization === 'valid' ? basic('svc', secret) : authorization
          }
          const response = await fetch(`${as.url}${path}`, { method: 'POST', headers, body })
          const text = await response.text()
          expect(response.status).toBeLessThan(500)
          expect(text).not.toMatch(STACK_TRACE)
          expect(text).not.toContain(secret)
          if (response.status >= 400) {
            expect(ENDPOINT_ERRORS).toContain((JSON.parse(text) as Record<string, unknown>).error)
          } else if (path === '/introspect') {
            expect(JSON.parse(text)).toHaveProperty('active')
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
