import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formAction, hiddenInputs } from '../../../../../test/e2e/support/browser.js'
import { createUser } from '../../admin/users.js'
import { createKeyEncryption } from '../../keys/key-encryption.js'
import { authorizeUrl, createPkce, newBrowser } from '../../test-support/authorization-flow.js'
import { startTestServer, type TestServer } from '../../test-support/test-server.js'

/**
 * Random input to the login, second-factor and consent pages and to logout, through the real
 * server on 127.0.0.1: never a 5xx or a stack trace, and a redirect only ever goes to the
 * client's registered URIs or back to the server itself (no open redirect).
 */
const REDIRECT = 'https://app.example/callback'
const LOGOUT_RETURN = 'https://app.example/bye'
const STACK_TRACE = /\bat [\w.<>]+ \(|node:internal|\.ts:\d+|\.js:\d+/

let as: TestServer
beforeAll(async () => {
  as = await startTestServer()
  await as.createClient({
    clientId: 'web',
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [LOGOUT_RETURN],
    scopes: ['openid', 'profile', 'orders:read'],
  })
  await createUser(as.store, createKeyEncryption(as.keyEncryptionKey), {
    username: 'alice',
    password: 'correct horse battery',
    claims: { customer_id: 'c-1', name: 'Alice', role: 'customer' },
  })
})
afterAll(async () => {
  await as?.close()
})

const TEXT = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    'alice',
    'correct horse battery',
    'allow',
    'deny',
    '000000',
    '',
    '%00',
    '<script>',
  ),
)
const FIELD = fc.constantFrom(
  'username',
  'password',
  'code',
  'decision',
  'csrf',
  'id',
  'x',
  'username ',
)

/** A redirect may only go to the registered client URIs or stay on the authorization server. */
function expectSafeRedirect(location: string | null): void {
  if (location === null) return
  const target = new URL(location, as.url)
  const allowed =
    target.origin === new URL(as.url).origin ||
    `${target.origin}${target.pathname}` === REDIRECT ||
    `${target.origin}${target.pathname}` === LOGOUT_RETURN
  expect(allowed, `redirect to ${location}`).toBe(true)
}

describe('interactive pages with random input (properties)', () => {
  it('answer any login, second-factor or consent form with a page or a safe redirect, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(FIELD, TEXT, { maxKeys: 5 }),
        fc.constantFrom('keep', 'drop', 'forge'),
        fc.boolean(),
        fc.dictionary(FIELD, TEXT, { maxKeys: 3 }),
        async (values, csrfMode, keepCookies, nextValues) => {
          const browser = newBrowser(as)
          const pkce = createPkce()
          const start = await browser.get(
            authorizeUrl(as, {
              response_type: 'code',
              client_id: 'web',
              redirect_uri: REDIRECT,
              scope: 'openid profile',
              state: 's',
              nonce: 'n',
              code_challenge: pkce.challenge,
              code_challenge_method: 'S256',
            }),
          )
          const loginPage = await browser.follow(start)
          const action = formAction(loginPage.html)
          expect(action).not.toBeNull()
          const hidden = hiddenInputs(loginPage.html)
          const form: Record<string, string> = { ...hidden, ...values }
          if (csrfMode === 'drop') for (const name of Object.keys(hidden)) delete form[name]
          if (csrfMode === 'forge') for (const name of Object.keys(hidden)) form[name] = 'forged'
          if (!keepCookies) browser.cookies.clear()
          const page = await browser.post(new URL(action ?? '', as.url).toString(), form)
          expect(page.status).toBeLessThan(500)
          expect(page.html).not.toMatch(STACK_TRACE)
          expectSafeRedirect(page.location)
          // A page with a form again (the same step, a second factor or consent): answer it at random too.
          const nextAction = page.status === 200 ? formAction(page.html) : null
          if (nextAction !== null) {
            const next = await browser.post(new URL(nextAction, as.url).toString(), {
              ...hiddenInputs(page.html),
              ...nextValues,
            })
            expect(next.status).toBeLessThan(500)
            expect(next.html).not.toMatch(STACK_TRACE)
            expectSafeRedirect(next.location)
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it('answers any logout request with a page or a registered return URI, never a 5xx', async () => {
    const PARAMETER = fc.constantFrom(
      'post_logout_redirect_uri',
      'id_token_hint',
      'client_id',
      'state',
      'ui_locales',
    )
    const VALUE = fc.oneof(
      TEXT,
      fc.constantFrom(
        LOGOUT_RETURN,
        `${LOGOUT_RETURN}x`,
        'https://evil.example/bye',
        '//evil.example',
        'web',
        'eyJhbGciOiJub25lIn0.e30.',
      ),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(PARAMETER, VALUE), { maxLength: 5 }),
        fc.constantFrom('GET', 'POST'),
        async (pairs, method) => {
          const query = new URLSearchParams(pairs).toString()
          const response =
            method === 'GET'
              ? await fetch(`${as.url}/logout?${query}`, { redirect: 'manual' })
              : await fetch(`${as.url}/logout`, {
                  method: 'POST',
                  redirect: 'manual',
                  headers: { 'content-type': 'application/x-www-form-urlencoded' },
                  body: query,
                })
          expect(response.status).toBeLessThan(500)
          expect(await response.text()).not.toMatch(STACK_TRACE)
          expectSafeRedirect(response.headers.get('location'))
        },
      ),
      { numRuns: 150 },
    )
  })
})
