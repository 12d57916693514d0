import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { type RunningStack, startDevStack } from '@gatehouse/cli'
import { buildSpaAssets } from '@gatehouse/example-spa/build'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, verifiedSpkiHash } from './chromium.js'

/**
 * The example SPA in a real browser against `gatehouse start`: Debian's Chromium signs in as a
 * demo user on the real login page, sees that user's orders through the gateway's cookie route,
 * and the test shows that no token is ever reachable from script; after logout the orders are
 * gone and the old cookies, replayed by hand, work nowhere.
 */

/** A JWT (base64url `{"` header, a dot, payload) or a Gatehouse opaque access/refresh token or code. */
const TOKEN = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|\bg(?:at|rt|ac)_[A-Za-z0-9]{20,}/
/** Stricter, for places that should hold nothing token-like at all. */
const TOKEN_MARKER = /eyJ|gat_|grt_/
/** The token handler's cookies (`__Host-gatehouse-at`, `…-rt`, `…-id`, `…-csrf`). */
const SESSION_COOKIE = /gatehouse-(?:at|rt|id|csrf)$/

interface DevJsonView {
  readonly issuer: string
  readonly gatewayUrl: string
  readonly tokenHandlerUrl?: string
  readonly spaUrl?: string
  readonly caCertFile: string
  readonly users: readonly { readonly username: string; readonly password: string }[]
}

interface Stack {
  readonly issuer: string
  readonly spaUrl: string
  readonly tokenHandlerUrl: string
  readonly gatewayUrl: string
  readonly ordersUrl: string
  readonly ca: string
  readonly alicePassword: string
}

let dir: string
let running: RunningStack | undefined
let stack: Stack
let browser: Browser | undefined
let stackOutput = ''

function capture(): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      stackOutput += chunk.toString()
      done()
    },
  })
}

/** What `gatehouse start` reports, from its answer or `dev.json`; fails loudly while the SPA is not wired. */
async function readStack(started: RunningStack): Promise<Stack> {
  const reported = started as unknown as Record<string, unknown>
  const devJsonFile =
    typeof reported.devJsonFile === 'string' ? reported.devJsonFile : join(dir, 'dev.json')
  const devJson = JSON.parse(
    await readFile(devJsonFile, 'utf8').catch(() => 'null'),
  ) as DevJsonView | null
  const spaUrl = typeof reported.spaUrl === 'string' ? reported.spaUrl : devJson?.spaUrl
  const tokenHandlerUrl =
    typeof reported.tokenHandlerUrl === 'string'
      ? reported.tokenHandlerUrl
      : devJson?.tokenHandlerUrl
  if (devJson === null || spaUrl === undefined || tokenHandlerUrl === undefined) {
    throw new Error(
      'gatehouse start does not serve the example SPA yet: it must start the token handler and ' +
        'createSpaHandler from @gatehouse/example-spa, and report spaUrl and tokenHandlerUrl ' +
        `(in its answer and in ${devJsonFile})`,
    )
  }
  const alice = devJson.users.find((user) => user.username === 'alice')
  if (alice === undefined) throw new Error('dev.json has no demo user alice')
  const ca = await readFile(resolve(devJson.caCertFile), 'utf8')
  const runtimeConfig = JSON.parse((await httpsRequest(`${spaUrl}/config.json`, { ca })).body)
  return {
    issuer: devJson.issuer,
    spaUrl,
    tokenHandlerUrl,
    gatewayUrl: devJson.gatewayUrl,
    ordersUrl: `${runtimeConfig.apiBaseUrl}${runtimeConfig.ordersPath}`,
    ca,
    alicePassword: alice.password,
  }
}

interface Reply {
  readonly status: number
  readonly body: string
}

/** A hand-made request from outside the browser (Node, trusting the dev CA). */
function httpsRequest(
  url: string,
  options: { ca: string; method?: string; headers?: Record<string, string> },
): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', ca: options.ca, agent: false, headers: options.headers },
      (res) => {
        let body = ''
        res.on('data', (chunk) => {
          body += chunk
        })
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** The Cookie header the browser would send to `url`, HttpOnly cookies included. */
async function cookieHeaderFor(context: BrowserContext, url: string): Promise<string> {
  const cookies = await context.cookies(url)
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ')
}

interface ScriptReachable {
  readonly cookie: string
  readonly localStorage: string
  readonly sessionStorage: string
}

/**
 * Everything script on the page can read without a server's help. Evaluated as source text in
 * the page (this file is type-checked without the DOM library).
 */
function scriptReachableState(page: Page): Promise<ScriptReachable> {
  return page.evaluate(`({
    cookie: document.cookie,
    localStorage: JSON.stringify({ ...localStorage }),
    sessionStorage: JSON.stringify({ ...sessionStorage }),
  })`)
}

/** A fetch made by the page itself, with its cookies, as the SPA's own code would. */
function fetchFromPage(page: Page, url: string): Promise<number> {
  return page.evaluate(
    async (target) => (await fetch(target, { credentials: 'include' })).status,
    url,
  )
}

beforeAll(async () => {
  // The CLI serves the SPA from examples/spa/dist/public: bundle the current sources first.
  await buildSpaAssets()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-spa-e2e-'))
  running = await startDevStack({ dir, ports: 'free', out: capture() })
  stack = await readStack(running)
  const hashes = await Promise.all(
    [stack.spaUrl, stack.tokenHandlerUrl, stack.gatewayUrl, stack.issuer].map((url) =>
      verifiedSpkiHash(url, stack.ca),
    ),
  )
  browser = await launchChromium(hashes)
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await running?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('the example SPA in Chromium', () => {
  it('signs alice in on the real login page, shows her orders only, and never exposes a token', async () => {
    if (browser === undefined) throw new Error('Chromium did not start')
    const context = await browser.newContext({ ignoreHTTPSErrors: false })
    const page = await context.newPage()
    const pageProblems: string[] = []
    // The page's calls, failures and console errors, to say why when it does not show the orders.
    const trail: string[] = []
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (/Content Security Policy|TrustedHTML|TrustedScript/i.test(message.text())) {
        pageProblems.push(`policy violation: ${message.text()}`)
      }
      if (message.type() === 'error') trail.push(`console: ${message.text()}`)
    })
    // Every answer the page gets from the token handler and the gateway, to look for tokens in.
    const answers: Promise<string>[] = []
    page.on('response', (response) => {
      const url = response.url()
      if (url.startsWith(stack.tokenHandlerUrl) || url.startsWith(stack.gatewayUrl)) {
        answers.push(response.text().catch(() => ''))
        const route = `${response.request().method()} ${url}`
        trail.push(`${response.status()} ${route}`)
      }
    })
    page.on('requestfailed', (request) => {
      trail.push(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`)
    })
    const showsOrders = async () => {
      try {
        await expect
          .poll(
            async () =>
              (await page.locator('#orders-table').count()) > 0 ||
              ((await page.locator('#alert').textContent()) ?? '') !== '',
            { timeout: 15_000 },
          )
          .toBe(true)
      } catch {
        throw new Error(
          `the SPA showed neither orders nor an error; its calls:\n${trail.join('\n')}`,
        )
      }
      const alert = (await page.locator('#alert').textContent()) ?? ''
      expect(alert, `the SPA shows an error; its calls:\n${trail.join('\n')}`).toBe('')
      return (await page.locator('#orders-table tbody th').allTextContents()).sort()
    }

    await page.goto(stack.spaUrl)
    const signIn = page.getByRole('button', { name: 'Sign in' })
    await signIn.waitFor({ timeout: 15_000 })
    await signIn.click()

    // The authorization server's own login page: the SPA never sees the password.
    await page.waitForURL((url) => url.href.startsWith(stack.issuer), { timeout: 15_000 })
    await page.locator('#username').fill('alice')
    await page.locator('#password').fill(stack.alicePassword)
    await page.getByRole('button', { name: 'Sign in' }).click()
    // The consent page, if the server asks (the token handler is a first-party client).
    const allow = page.getByRole('button', { name: 'Allow' })
    await expect
      .poll(async () => page.url().startsWith(stack.spaUrl) || (await allow.count()) > 0, {
        timeout: 15_000,
      })
      .toBe(true)
    if (!page.url().startsWith(stack.spaUrl)) await allow.click()

    await page.waitForURL((url) => url.href.startsWith(stack.spaUrl), { timeout: 15_000 })
    await expect
      .poll(() => page.locator('#signed-in-as').textContent(), { timeout: 15_000 })
      .toContain('Alice Example')
    expect(await page.locator('#profile-customer-id').textContent()).toBe('c-1001')
    expect(await showsOrders()).toEqual(['ord-000001', 'ord-000002'])
    expect(await page.locator('body').textContent()).not.toMatch(/ord-000003|ord-000004/)
    // The spent code and state left the address bar.
    expect(page.url()).toBe(`${stack.spaUrl}/`)

    // No token is reachable from script: not in document.cookie, not in storage, not in any
    // answer the page received; the session cookies exist, but only the browser can send them.
    const reachable = await scriptReachableState(page)
    expect(reachable.cookie).not.toMatch(TOKEN_MARKER)
    expect(
      reachable.cookie.split('; ').some((pair) => SESSION_COOKIE.test(pair.split('=')[0] ?? '')),
    ).toBe(false)
    expect(reachable.localStorage).toBe('{}')
    expect(reachable.sessionStorage).toBe('{}')
    for (const body of await Promise.all(answers)) expect(body).not.toMatch(TOKEN)
    const sessionCookies = (await context.cookies()).filter((cookie) =>
      SESSION_COOKIE.test(cookie.name),
    )
    expect(sessionCookies.length).toBeGreaterThanOrEqual(3)
    for (const cookie of sessionCookies) {
      expect(cookie, cookie.name).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
      })
      expect(cookie.value, cookie.name).not.toMatch(TOKEN) // sealed, not the token itself
    }

    // The access token "expires" (its cookie goes, as at its Max-Age): the gateway answers 401,
    // the SPA refreshes once through the token handler and loads the orders again.
    const refreshes: number[] = []
    page.on('response', (response) => {
      if (response.url() === `${stack.tokenHandlerUrl}/refresh`) refreshes.push(response.status())
    })
    await context.clearCookies({ name: /gatehouse-at$/ })
    await page.getByRole('button', { name: 'Reload orders' }).click()
    await expect.poll(() => refreshes, { timeout: 15_000 }).toEqual([200])
    expect(await showsOrders()).toEqual(['ord-000001', 'ord-000002'])

    // What a thief of the cookies would hold, and the CSRF token the page could read.
    const stolenApiCookies = await cookieHeaderFor(context, stack.ordersUrl)
    const stolenHandlerCookies = await cookieHeaderFor(context, `${stack.tokenHandlerUrl}/refresh`)
    const csrfToken = await page.evaluate(async (url) => {
      const answer = await fetch(`${url}/session`, { credentials: 'include' })
      return ((await answer.json()) as { csrfToken?: string }).csrfToken ?? ''
    }, stack.tokenHandlerUrl)
    expect(csrfToken).not.toBe('')
    const replayedOrders = await httpsRequest(stack.ordersUrl, {
      ca: stack.ca,
      headers: { cookie: stolenApiCookies, origin: stack.spaUrl },
    })
    expect(replayedOrders.status, 'the stolen cookies work before logout').toBe(200)

    // Sign out: the token handler revokes the tokens, then the authorization server ends its session.
    await page.getByRole('button', { name: 'Sign out' }).click()
    // The authorization server asks to confirm (the end-session URL carries no ID token hint).
    await page.waitForURL((url) => url.href.startsWith(stack.issuer), { timeout: 15_000 })
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL((url) => url.href.startsWith(stack.spaUrl), { timeout: 15_000 })
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 15_000 })
    expect(await page.locator('body').textContent()).not.toMatch(/ord-00000/)
    expect((await context.cookies()).filter((cookie) => SESSION_COOKIE.test(cookie.name))).toEqual(
      [],
    )

    // The page itself can no longer load the orders.
    expect(await fetchFromPage(page, stack.ordersUrl)).toBe(401)

    // The old cookies, replayed by hand, work nowhere: not at the gateway, not for a refresh.
    const afterOrders = await httpsRequest(stack.ordersUrl, {
      ca: stack.ca,
      headers: { cookie: stolenApiCookies, origin: stack.spaUrl },
    })
    expect(afterOrders.status, 'gateway orders route with the old cookies').toBe(401)
    const afterRefresh = await httpsRequest(`${stack.tokenHandlerUrl}/refresh`, {
      ca: stack.ca,
      method: 'POST',
      headers: {
        cookie: stolenHandlerCookies,
        origin: stack.spaUrl,
        'x-gatehouse-csrf': csrfToken,
        'content-type': 'application/json',
      },
    })
    expect(afterRefresh.status, 'token handler refresh with the old cookies').toBe(401)
    expect(JSON.parse(afterRefresh.body)).toMatchObject({ code: 'session_expired' })

    expect(pageProblems).toEqual([])
    expect(stackOutput, 'the stack logged a token').not.toMatch(TOKEN)
    await context.close()
  }, 120_000)
})
