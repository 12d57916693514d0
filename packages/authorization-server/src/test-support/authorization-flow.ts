/**
 * Test support: drives the browser part of the code flow against a test server.
 */
import { createHash, randomBytes } from 'node:crypto'
import { type Browser, createBrowser, type Page } from '../../../../test/e2e/support/browser.js'
import type { TestServer } from './test-server.js'

export interface Pkce {
  readonly verifier: string
  readonly challenge: string
}

export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export function authorizeUrl(as: TestServer, params: Record<string, string>): string {
  return `${as.url}/authorize?${new URLSearchParams(params).toString()}`
}

export function newBrowser(as: TestServer): Browser {
  return createBrowser(as.url)
}

/** Submits the login form (and the TOTP form when `totp` is given), then follows redirects. */
export async function signIn(
  browser: Browser,
  page: Page,
  username: string,
  password: string,
): Promise<Page> {
  const loginPage = await browser.follow(page)
  return browser.submit(loginPage, { username, password })
}

export function callbackParams(page: Page): URLSearchParams {
  if (page.location === null)
    throw new Error(`expected a redirect, got ${page.status}: ${page.html.slice(0, 300)}`)
  return new URL(page.location).searchParams
}
