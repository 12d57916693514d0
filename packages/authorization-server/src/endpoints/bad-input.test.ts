import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, startTestServer, type TestServer } from '../test-support/test-server.js'

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

const PARAMETER_NAMES = [
  'grant_type',
  'scope',
  'resource',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'token',
  'subject_token',
  'subject_token_type',
  'audience',
  'x',
]
const VALUES = fc.oneof(
  fc.constantFrom(
    'client_credentials',
    'refresh_token',
    'authorization_code',
    'svc',
    'gcs_x',
    'gat_',
    'eyJ.e30.',
    '%',
    '%zz',
    '\u0000',
    'orders:read',
  ),
  fc.string({ maxLength: 40 }),
)
const FORM = fc
  .array(fc.tuple(fc.constantFrom(...PARAMETER_NAMES), VALUES), { maxLength: 8 })
  .map((pairs) => pairs.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&'))

describe('bad input never produces a server error', () => {
  for (const path of ['/token', '/introspect', '/revoke', '/par']) {
    it(`answers random forms at ${path} with a 2xx or an RFC 6749 error, never 5xx or a stack`, async () => {
      await fc.assert(
        fc.asyncProperty(FORM, fc.boolean(), async (body, authenticated) => {
          const response = await as.post(
            path,
            body,
            authenticated ? { authorization: basic('svc', secret) } : {},
          )
          const text = await response.text()
          expect(response.status).toBeLessThan(500)
          expect(text).not.toMatch(/\bat [\w.<>]+ \(|node:internal|\.ts:\d+/)
          if (response.status >= 400) expect(JSON.parse(text)).toHaveProperty('error')
        }),
        { numRuns: 60 },
      )
    })
  }

  it('answers random query strings at /authorize with a page or a redirect, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(FORM, async (query) => {
        const response = await fetch(`${as.url}/authorize?${query}`, { redirect: 'manual' })
        expect(response.status).toBeLessThan(500)
        expect(await response.text()).not.toMatch(/node:internal|\.ts:\d+/)
      }),
      { numRuns: 60 },
    )
  })

  it('refuses malformed Basic credentials with invalid_client', async () => {
    for (const header of [
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':secret').toString('base64')}`,
      `Basic ${Buffer.from('%zz:x').toString('base64')}`,
      'Bearer abc',
    ]) {
      const response = await as.post(
        '/token',
        { grant_type: 'client_credentials' },
        { authorization: header },
      )
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ error: 'invalid_client' })
    }
  })
})
