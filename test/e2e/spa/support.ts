import { readFile } from 'node:fs/promises'
import { request } from 'node:https'
import { resolve } from 'node:path'
import type { RunningStack } from '@gatehouse/cli'
import type { BrowserContext, Page } from 'playwright-core'
import { expect } from 'vitest'

/** A JWT (base64url `{"` header, a dot, payload) or a Gatehouse opaque access/refresh token or code. */
export const TOKEN = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|\bg(?:at|rt|ac)_[A-Za-z0-9]{20,}/
/** Stricter, for places that should hold nothing token-like at all. */
export const TOKEN_MARKER = /eyJ|gat_|grt_/
/** The token handler's cookies (`__Host-gatehouse-at`, `…-rt`, `…-id`, `…-csrf`). */
export const SESSION_COOKIE = /gatehouse-(?:at|rt|id|csrf)$/

/** The part of `dev.json` (issue 6's contract) this test reads. */
interface DevJsonView {
  readonly issuer: string
  readonly gatewayUrl: string
  readonly tokenHandlerUrl: string
  readonly spaUrl: string
  readonly caCertFile: string
  readonly users: readonly { readonly username: string; readonly password: string }[]
}

export interface Stack {
  readonly issuer: string
  readonly spaUrl: string
  readonly tokenHandlerUrl: string
  readonly gatewayUrl: string
  readonly ordersUrl: string
  readonly ca: string
  readonly alicePassword: string
}

/**
 * What `gatehouse start` reports: its answer, and `dev.json` (which must agree with it) for the
 * demo password and the CA; the orders route from the SPA's own `/config.json`.
 */
export async function readStack(started: RunningStack): Promise<Stack> {
  const devJson = JSON.parse(await readFile(started.devJsonFile, 'utf8')) as DevJsonView
  expect(devJson).toMatchObject({
    issuer: started.issuer,
    gatewayUrl: started.gatewayUrl,
    tokenHandlerUrl: started.tokenHandlerUrl,
    spaUrl: started.spaUrl,
  })
  const alice = devJson.users.find((user) => user.username === 'alice')
  if (alice === undefined) throw new Error('dev.json has no demo user alice')
  const ca = await readFile(resolve(devJson.caCertFile), 'utf8')
  const runtimeConfig = JSON.parse(
    (await httpsRequest(`${started.spaUrl}/config.json`, { ca })).body,
  )
  return {
    issuer: started.issuer,
    spaUrl: started.spaUrl,
    tokenHandlerUrl: started.tokenHandlerUrl,
    gatewayUrl: started.gatewayUrl,
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
export function httpsRequest(
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
export async function cookieHeaderFor(context: BrowserContext, url: string): Promise<string> {
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
export function scriptReachableState(page: Page): Promise<ScriptReachable> {
  return page.evaluate(`({
    cookie: document.cookie,
    localStorage: JSON.stringify({ ...localStorage }),
    sessionStorage: JSON.stringify({ ...sessionStorage }),
  })`)
}

/** A fetch made by the page itself, with its cookies, as the SPA's own code would. */
export function fetchFromPage(page: Page, url: string): Promise<number> {
  return page.evaluate(
    async (target) => (await fetch(target, { credentials: 'include' })).status,
    url,
  )
}

export interface PageWatch {
  /** Uncaught errors and CSP / Trusted Types violations: the page must have none. */
  readonly problems: string[]
  /** Every answer from the token handler and the gateway, to look for tokens in. */
  readonly answers: Promise<string>[]
  /** Waits for the orders table and returns its order ids; fails naming the page's calls. */
  showsOrders(): Promise<string[]>
}

/** Listens to what a page of the SPA does, to check it and to explain a failure. */
export function watchPage(page: Page, stack: Stack): PageWatch {
  const problems: string[] = []
  const answers: Promise<string>[] = []
  // The page's calls, failures and console errors, to say why when it does not show the orders.
  const trail: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (/Content Security Policy|TrustedHTML|TrustedScript/i.test(message.text())) {
      problems.push(`policy violation: ${message.text()}`)
    }
    if (message.type() === 'error') trail.push(`console: ${message.text()}`)
  })
  page.on('response', (response) => {
    const url = response.url()
    if (url.startsWith(stack.tokenHandlerUrl) || url.startsWith(stack.gatewayUrl)) {
      answers.push(response.text().catch(() => ''))
      trail.push(`${response.status()} ${response.request().method()} ${url}`)
    }
  })
  page.on('requestfailed', (request) => {
    trail.push(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`)
  })
  return {
    problems,
    answers,
    async showsOrders() {
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
    },
  }
}

/** Signs in from the SPA's start page through the authorization server's own login page. */
export async function signIn(page: Page, stack: Stack, username: string, password: string) {
  await page.goto(stack.spaUrl)
  const signInButton = page.getByRole('button', { name: 'Sign in' })
  await signInButton.waitFor({ timeout: 15_000 })
  await signInButton.click()
  // The authorization server's login page: the SPA never sees the password.
  await page.waitForURL((url) => url.href.startsWith(stack.issuer), { timeout: 15_000 })
  await page.locator('#username').fill(username)
  await page.locator('#password').fill(password)
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
  await page.locator('#signed-in-as').waitFor({ timeout: 15_000 })
}
