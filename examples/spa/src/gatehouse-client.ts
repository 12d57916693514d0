import type { SpaRuntimeConfig } from './runtime-config.js'

/**
 * The SPA's only way to talk to its backends: the Gatehouse token handler (login, session,
 * refresh, logout) and APIs through the gateway's `cookie` route. Every call sends the browser's
 * cookies (`credentials: 'include'`) and none reads a token: the token handler answers with the
 * user's claims and a CSRF token, and the cookies that hold the tokens are `HttpOnly`. Free of
 * the DOM, so it runs (and is tested) under Node as well as in the page.
 */
export interface GatehouseClient {
  /** Call on every page load with `location.href`: completes a login callback or just reports the session. */
  endLogin(pageUrl: string): Promise<LoginEnd>
  session(): Promise<SessionView>
  /** Returns the authorization URL to navigate the window to. */
  startLogin(): Promise<string>
  /** The signed-in user's orders, through the gateway; refreshes once on a 401. */
  listOrders(): Promise<readonly OrderSummary[]>
  /** Ends the session; returns the authorization server's end-session URL, if any. */
  logout(): Promise<string | null>
}

export type SessionView =
  | { readonly isLoggedIn: false }
  | { readonly isLoggedIn: true; readonly user: UserView }

export interface UserView {
  readonly subject: string | undefined
  readonly name: string | undefined
  readonly customerId: string | undefined
}

export interface LoginEnd {
  /** True when the page was an OAuth callback (its code and state should leave the URL). */
  readonly handled: boolean
  readonly session: SessionView
}

export interface OrderSummary {
  readonly id: string
  readonly status: string
  readonly items: readonly { readonly sku: string; readonly quantity: number }[]
  readonly createdAt: string
}

/** A failed call: `status` 0 is a network failure; `code` is the backend's problem code. */
export class GatehouseRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'GatehouseRequestError'
  }
}

/** The session is over (expired, revoked or logged out elsewhere): the user must sign in again. */
export class SessionEnded extends GatehouseRequestError {
  constructor(code: string) {
    super(401, code, 'the session has ended; sign in again')
    this.name = 'SessionEnded'
  }
}

/** The part of `fetch` the client uses, so tests can pass Node's fetch with a test CA. */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>

export interface FetchInit {
  readonly method: 'GET' | 'POST'
  readonly headers: Record<string, string>
  readonly credentials: 'include'
  readonly cache: 'no-store'
  readonly body?: string
}

export interface FetchResponseLike {
  readonly status: number
  readonly ok: boolean
  json(): Promise<unknown>
}

export function createGatehouseClient(
  config: SpaRuntimeConfig,
  fetchImpl: FetchLike,
): GatehouseClient {
  // The CSRF token is not a credential: it is useless without the HttpOnly cookies, and a page
  // on another origin cannot read it. It lives in memory only, never in storage.
  let csrfToken: string | undefined
  let refreshing: Promise<void> | undefined

  async function call(
    url: string,
    method: 'GET' | 'POST',
    body?: unknown,
  ): Promise<{ status: number; ok: boolean; payload: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    // Only state-changing calls carry the CSRF header: a GET with a custom header would need a
    // CORS preflight for nothing.
    if (method !== 'GET' && csrfToken !== undefined) headers[config.csrfHeaderName] = csrfToken
    let response: FetchResponseLike
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        credentials: 'include',
        cache: 'no-store',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch {
      throw new GatehouseRequestError(0, 'network_error', 'the server could not be reached')
    }
    const payload = await response.json().catch(() => undefined)
    return { status: response.status, ok: response.ok, payload }
  }

  function tokenHandler(path: string): string {
    return `${config.tokenHandlerUrl}${path}`
  }

  function failure(status: number, payload: unknown): GatehouseRequestError {
    const code = stringField(payload, 'code') ?? stringField(payload, 'error') ?? `http_${status}`
    if (code === 'session_expired') return new SessionEnded(code)
    const detail = stringField(payload, 'detail') ?? `the request failed with status ${status}`
    return new GatehouseRequestError(status, code, detail)
  }

  function sessionFrom(payload: unknown): SessionView {
    if (!isObject(payload) || payload.isLoggedIn !== true) {
      csrfToken = undefined
      return { isLoggedIn: false }
    }
    csrfToken = stringField(payload, 'csrfToken')
    const claims = isObject(payload.claims) ? payload.claims : {}
    return {
      isLoggedIn: true,
      user: {
        subject: stringField(claims, 'sub'),
        name: stringField(claims, 'name'),
        customerId: stringField(claims, 'customer_id'),
      },
    }
  }

  async function session(): Promise<SessionView> {
    const answer = await call(tokenHandler('/session'), 'GET')
    if (!answer.ok) throw failure(answer.status, answer.payload)
    return sessionFrom(answer.payload)
  }

  /** A state-changing token-handler call; a stale CSRF token is fetched again once. */
  async function post(path: string): Promise<unknown> {
    let answer = await call(tokenHandler(path), 'POST')
    if (answer.status === 401 && stringField(answer.payload, 'code') === 'csrf_failed') {
      await session()
      answer = await call(tokenHandler(path), 'POST')
    }
    if (!answer.ok) throw failure(answer.status, answer.payload)
    return answer.payload
  }

  /** One refresh at a time per page: concurrent 401s wait for the same refresh. */
  function refreshOnce(): Promise<void> {
    refreshing ??= post('/refresh')
      .then(() => undefined)
      .finally(() => {
        refreshing = undefined
      })
    return refreshing
  }

  async function callApi(path: string): Promise<unknown> {
    const url = `${config.apiBaseUrl}${path}`
    let answer = await call(url, 'GET')
    if (answer.status === 401) {
      // The access-token cookie expired (or is gone): refresh once, then try again. A second 401
      // means the session itself is over.
      await refreshOnce()
      answer = await call(url, 'GET')
      if (answer.status === 401) {
        throw new SessionEnded(stringField(answer.payload, 'code') ?? 'http_401')
      }
    }
    if (!answer.ok) throw failure(answer.status, answer.payload)
    return answer.payload
  }

  return {
    async endLogin(pageUrl) {
      const answer = await call(tokenHandler('/login/end'), 'POST', { pageUrl })
      if (!answer.ok) throw failure(answer.status, answer.payload)
      return {
        handled: isObject(answer.payload) && answer.payload.handled === true,
        session: sessionFrom(answer.payload),
      }
    },
    session,
    async startLogin() {
      const payload = await post('/login/start')
      const authorizationUrl = stringField(payload, 'authorizationUrl')
      if (authorizationUrl === undefined || !/^https:\/\//.test(authorizationUrl)) {
        throw new GatehouseRequestError(502, 'bad_answer', 'the sign-in could not be started')
      }
      return authorizationUrl
    },
    async listOrders() {
      const payload = await callApi(config.ordersPath)
      const orders = isObject(payload) && Array.isArray(payload.orders) ? payload.orders : []
      return orders.flatMap((order: unknown) => {
        const summary = orderSummary(order)
        return summary === undefined ? [] : [summary]
      })
    },
    async logout() {
      try {
        const payload = await post('/logout')
        const endSessionUrl = stringField(payload, 'endSessionUrl')
        return endSessionUrl !== undefined && /^https:\/\//.test(endSessionUrl)
          ? endSessionUrl
          : null
      } finally {
        csrfToken = undefined
      }
    },
  }
}

function orderSummary(value: unknown): OrderSummary | undefined {
  if (!isObject(value)) return undefined
  const id = stringField(value, 'id')
  const status = stringField(value, 'status')
  if (id === undefined || status === undefined) return undefined
  const items = Array.isArray(value.items) ? value.items : []
  return {
    id,
    status,
    createdAt: stringField(value, 'createdAt') ?? '',
    items: items.flatMap((item: unknown) => {
      const sku = isObject(item) ? stringField(item, 'sku') : undefined
      const quantity = isObject(item) ? item.quantity : undefined
      return sku !== undefined && typeof quantity === 'number' ? [{ sku, quantity }] : []
    }),
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringField(value: unknown, name: string): string | undefined {
  if (!isObject(value)) return undefined
  const field = value[name]
  return typeof field === 'string' ? field : undefined
}
