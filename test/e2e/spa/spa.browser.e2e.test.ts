import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type RunningStack, startDevStack } from '@gatehouse/cli'
import { buildSpaAssets } from '@gatehouse/example-spa/build'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, verifiedSpkiHash } from './chromium.js'
import {
  cookieHeaderFor,
  fetchFromPage,
  httpsRequest,
  readStack,
  SESSION_COOKIE,
  type Stack,
  scriptReachableState,
  signIn,
  TOKEN,
  TOKEN_MARKER,
  watchPage,
} from './support.js'

/**
 * The example SPA in a real browser against `gatehouse start`: Debian's Chromium signs in as a
 * demo user on the real login page, sees that user's orders through the gateway's cookie route,
 * and the test shows that no token is ever reachable from script; after logout the orders are
 * gone and the old cookies, replayed by hand, work nowhere. A page on another origin of the same
 * site (another port of localhost: the browser sends it the cookies) can neither read the orders
 * nor sign the user out.
 */

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
    const watch = watchPage(page, stack)
    await signIn(page, stack, 'alice', stack.alicePassword)

    await expect
      .poll(() => page.locator('#signed-in-as').textContent(), { timeout: 15_000 })
      .toContain('Alice Example')
    expect(await page.locator('#profile-customer-id').textContent()).toBe('c-1001')
    expect(await watch.showsOrders()).toEqual(['ord-000001', 'ord-000002'])
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
    for (const body of await Promise.all(watch.answers)) expect(body).not.toMatch(TOKEN)
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
    expect(await watch.showsOrders()).toEqual(['ord-000001', 'ord-000002'])

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

    expect(watch.problems).toEqual([])
    expect(stackOutput, 'the stack logged a token').not.toMatch(TOKEN)
    await context.close()
  }, 120_000)

  it('lets a page on another origin of the same site neither read the orders nor sign the user out', async () => {
    if (browser === undefined) throw new Error('Chromium did not start')
    // Another port of localhost: same site, so SameSite=Strict does not stop the browser from
    // sending the session cookies. Origin checks and CORS have to.
    const foreign = await listenForeignPage()
    const context = await browser.newContext({ ignoreHTTPSErrors: false })
    try {
      const page = await context.newPage()
      const watch = watchPage(page, stack)
      await signIn(page, stack, 'alice', stack.alicePassword)
      expect(await watch.showsOrders()).toEqual(['ord-000001', 'ord-000002'])

      const cookiesBefore = await cookieHeaderFor(context, `${stack.tokenHandlerUrl}/refresh`)
      expect(cookiesBefore).toMatch(/gatehouse-rt=/)

      const attacker = await context.newPage()
      await attacker.goto(foreign.url)
      // Reading the orders or the session: the cookies go along, the answer stays unreadable.
      const reads = await attacker.evaluate(
        async ({ ordersUrl, sessionUrl }) => {
          const read = (url: string) =>
            fetch(url, { credentials: 'include' }).then(
              (answer) => `read ${answer.status}`,
              () => 'blocked',
            )
          return [await read(ordersUrl), await read(sessionUrl)]
        },
        { ordersUrl: stack.ordersUrl, sessionUrl: `${stack.tokenHandlerUrl}/session` },
      )
      expect(reads).toEqual(['blocked', 'blocked'])
      // Forged state changes (no-cors: sent with the cookies, the answer never matters here).
      await attacker.evaluate(async (tokenHandlerUrl) => {
        for (const path of ['/logout', '/refresh', '/login/start']) {
          await fetch(`${tokenHandlerUrl}${path}`, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            body: '{}',
          })
        }
      }, stack.tokenHandlerUrl)
      // Nothing changed: alice is still signed in with the same cookies, and her orders load.
      expect(await cookieHeaderFor(context, `${stack.tokenHandlerUrl}/refresh`)).toBe(cookiesBefore)
      await page.getByRole('button', { name: 'Reload orders' }).click()
      expect(await watch.showsOrders()).toEqual(['ord-000001', 'ord-000002'])
      expect(await cookieHeaderFor(context, `${stack.tokenHandlerUrl}/refresh`)).toBe(cookiesBefore)
      expect(watch.problems).toEqual([])
    } finally {
      await context.close()
      await foreign.close()
    }
  }, 120_000)
})

/** A plain page on another port of localhost, with the dev stack's own certificate. */
async function listenForeignPage(): Promise<{ url: string; close(): Promise<void> }> {
  const tlsDir = join(dir, 'tls')
  const server: Server = createServer(
    {
      cert: await readFile(join(tlsDir, 'localhost.pem'), 'utf8'),
      key: await readFile(join(tlsDir, 'localhost-key.pem'), 'utf8'),
    },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end('<!doctype html><title>another site on localhost</title><p>nothing here</p>')
    },
  )
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://localhost:${port}/`,
    close: () => new Promise((closed) => server.close(() => closed())),
  }
}
