import { describe, expect, it } from 'vitest'
import {
  createGatehouseClient,
  type FetchInit,
  type FetchLike,
  GatehouseRequestError,
  SessionEnded,
} from './gatehouse-client.js'
import { parseRuntimeConfig } from './runtime-config.js'

const config = parseRuntimeConfig({
  tokenHandlerUrl: 'https://th.example/tokenhandler',
  apiBaseUrl: 'https://api.example',
  ordersPath: '/spa/api/orders',
})
const CSRF = 'csrf-token-1'
const ORDERS_URL = 'https://api.example/spa/api/orders'

interface Call {
  readonly url: string
  readonly init: FetchInit
}
type Answer = { readonly status: number; readonly body?: unknown } | 'network-error'

/**
 * A scripted backend: each URL answers from its own queue (the last answer repeats), and every
 * call is recorded so the tests can check what the SPA sent — and what it did not send.
 */
function backend(script: Record<string, Answer[]>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = []
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init })
    const queue = script[url]
    const answer = queue && (queue.length > 1 ? queue.shift() : queue[0])
    if (answer === undefined) throw new Error(`unexpected call to ${url}`)
    if (answer === 'network-error') throw new TypeError('fetch failed')
    return {
      status: answer.status,
      ok: answer.status >= 200 && answer.status < 300,
      json: async () => {
        if (answer.body === undefined) throw new SyntaxError('no body')
        return answer.body
      },
    }
  }
  return { fetch, calls }
}

const loggedIn = {
  status: 200,
  body: {
    handled: true,
    isLoggedIn: true,
    csrfToken: CSRF,
    claims: { sub: 'alice', name: 'Alice Example', customer_id: 'c-1001' },
  },
}
const ordersBody = {
  orders: [
    { id: 'ord-000001', status: 'pending', items: [{ sku: 'BOOK-0042', quantity: 1 }] },
    { id: 'ord-000002', status: 'shipped', items: [], createdAt: '2026-01-15T09:30:00.000Z' },
  ],
}
const th = (path: string) => `https://th.example/tokenhandler${path}`
const refreshCalls = (calls: Call[]) => calls.filter((call) => call.url === th('/refresh'))

async function signedInClient(script: Record<string, Answer[]>) {
  const server = backend({ [th('/login/end')]: [loggedIn], ...script })
  const client = createGatehouseClient(config, server.fetch)
  const ended = await client.endLogin('https://spa.example/callback?code=c&state=s')
  return { client, ended, calls: server.calls }
}

describe('createGatehouseClient', () => {
  it('completes the login callback with the page URL, sending cookies and no CSRF header', async () => {
    const { ended, calls } = await signedInClient({})
    expect(ended).toEqual({
      handled: true,
      session: {
        isLoggedIn: true,
        user: { subject: 'alice', name: 'Alice Example', customerId: 'c-1001' },
      },
    })
    const [call] = calls
    expect(call?.init.method).toBe('POST')
    expect(call?.init.credentials).toBe('include')
    expect(JSON.parse(call?.init.body ?? '')).toEqual({
      pageUrl: 'https://spa.example/callback?code=c&state=s',
    })
    expect(call?.init.headers).not.toHaveProperty('x-gatehouse-csrf')
  })

  it('reports a page that was not a callback as not handled, and a signed-out session', async () => {
    const server = backend({
      [th('/login/end')]: [{ status: 200, body: { handled: false, isLoggedIn: false } }],
    })
    const ended = await createGatehouseClient(config, server.fetch).endLogin('https://spa.example/')
    expect(ended).toEqual({ handled: false, session: { isLoggedIn: false } })
  })

  it('lists orders with cookies but without the CSRF header on a GET (no needless preflight)', async () => {
    const { client, calls } = await signedInClient({
      [ORDERS_URL]: [{ status: 200, body: ordersBody }],
    })
    const orders = await client.listOrders()
    expect(orders.map((order) => order.id)).toEqual(['ord-000001', 'ord-000002'])
    const call = calls.find((c) => c.url === ORDERS_URL)
    expect(call?.init).toMatchObject({ method: 'GET', credentials: 'include' })
    expect(call?.init.headers).not.toHaveProperty('x-gatehouse-csrf')
  })

  it('on a 401 from the gateway refreshes once, with the CSRF header, and retries', async () => {
    const { client, calls } = await signedInClient({
      [ORDERS_URL]: [
        { status: 401, body: { code: 'access_token_expired' } },
        { status: 200, body: ordersBody },
      ],
      [th('/refresh')]: [{ status: 200, body: { accessTokenExpiresAt: 1 } }],
    })
    expect(await client.listOrders()).toHaveLength(2)
    const refreshes = refreshCalls(calls)
    expect(refreshes).toHaveLength(1)
    expect(refreshes[0]?.init.headers['x-gatehouse-csrf']).toBe(CSRF)
    expect(calls.filter((call) => call.url === ORDERS_URL)).toHaveLength(2)
  })

  it('shares one refresh between calls that hit a 401 at the same time', async () => {
    const { client, calls } = await signedInClient({
      [ORDERS_URL]: [
        { status: 401, body: { code: 'access_token_expired' } },
        { status: 401, body: { code: 'access_token_expired' } },
        { status: 200, body: ordersBody },
      ],
      [th('/refresh')]: [{ status: 200, body: { accessTokenExpiresAt: 1 } }],
    })
    await Promise.all([client.listOrders(), client.listOrders()])
    expect(refreshCalls(calls)).toHaveLength(1)
  })

  it('ends the session when the refresh is refused, without a loop', async () => {
    const { client, calls } = await signedInClient({
      [ORDERS_URL]: [{ status: 401, body: { code: 'access_token_expired' } }],
      [th('/refresh')]: [{ status: 401, body: { code: 'session_expired' } }],
    })
    await expect(client.listOrders()).rejects.toBeInstanceOf(SessionEnded)
    expect(refreshCalls(calls)).toHaveLength(1)
    expect(calls.filter((call) => call.url === ORDERS_URL)).toHaveLength(1)
  })

  it('ends the session when the API still answers 401 after a refresh', async () => {
    const { client, calls } = await signedInClient({
      [ORDERS_URL]: [{ status: 401, body: { code: 'invalid_cookie' } }],
      [th('/refresh')]: [{ status: 200, body: { accessTokenExpiresAt: 1 } }],
    })
    await expect(client.listOrders()).rejects.toBeInstanceOf(SessionEnded)
    expect(refreshCalls(calls)).toHaveLength(1)
    expect(calls.filter((call) => call.url === ORDERS_URL)).toHaveLength(2)
  })

  it('does not refresh on a 403: a missing scope is not an expired token', async () => {
    const { client, calls } = await signedInClient({
      [ORDERS_URL]: [{ status: 403, body: { error: 'insufficient_scope' } }],
    })
    await expect(client.listOrders()).rejects.toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    })
    expect(refreshCalls(calls)).toHaveLength(0)
  })

  it('logs out with the CSRF header, returns the end-session URL and forgets the CSRF token', async () => {
    const { client, calls } = await signedInClient({
      [th('/logout')]: [
        {
          status: 200,
          body: { endSessionUrl: 'https://as.example/end?client_id=x', revoked: true },
        },
      ],
      [th('/login/start')]: [
        { status: 200, body: { authorizationUrl: 'https://as.example/authorize?x' } },
      ],
    })
    expect(await client.logout()).toBe('https://as.example/end?client_id=x')
    expect(calls.at(-1)?.init.headers['x-gatehouse-csrf']).toBe(CSRF)
    await client.startLogin()
    expect(calls.at(-1)?.init.headers).not.toHaveProperty('x-gatehouse-csrf')
  })

  it('fetches the CSRF token again once when the token handler refuses a stale one', async () => {
    const { client, calls } = await signedInClient({
      [th('/logout')]: [
        { status: 401, body: { code: 'csrf_failed' } },
        { status: 200, body: { endSessionUrl: null } },
      ],
      [th('/session')]: [
        { status: 200, body: { isLoggedIn: true, csrfToken: 'csrf-token-2', claims: {} } },
      ],
    })
    expect(await client.logout()).toBeNull()
    expect(calls.map((call) => call.url.replace(th(''), ''))).toEqual([
      '/login/end',
      '/logout',
      '/session',
      '/logout',
    ])
    expect(calls.at(-1)?.init.headers['x-gatehouse-csrf']).toBe('csrf-token-2')
  })

  it('refuses to navigate to an authorization URL that is not https (a hostile answer)', async () => {
    for (const authorizationUrl of ['javascript:alert(1)', 'http://as.example/authorize', 42]) {
      const server = backend({
        [th('/login/start')]: [{ status: 200, body: { authorizationUrl } }],
      })
      await expect(createGatehouseClient(config, server.fetch).startLogin()).rejects.toMatchObject({
        code: 'bad_answer',
      })
    }
  })

  it('turns a network failure and a problem answer into coded errors', async () => {
    const down = backend({ [th('/login/end')]: ['network-error'] })
    await expect(
      createGatehouseClient(config, down.fetch).endLogin('https://spa.example/'),
    ).rejects.toMatchObject({
      status: 0,
      code: 'network_error',
    })
    const unavailable = backend({
      [th('/login/end')]: [
        { status: 503, body: { code: 'authorization_server_unavailable', detail: 'later' } },
      ],
    })
    const error = await createGatehouseClient(config, unavailable.fetch)
      .endLogin('https://spa.example/callback?code=c&state=s')
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(GatehouseRequestError)
    expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' })
  })

  it('keeps only well-formed orders from the API answer', async () => {
    const { client } = await signedInClient({
      [ORDERS_URL]: [
        {
          status: 200,
          body: {
            orders: [
              ordersBody.orders[0],
              { id: 7 },
              null,
              { id: 'ord-9', status: 'x', items: [{ sku: 1 }] },
            ],
          },
        },
      ],
    })
    expect(await client.listOrders()).toEqual([
      {
        id: 'ord-000001',
        status: 'pending',
        createdAt: '',
        items: [{ sku: 'BOOK-0042', quantity: 1 }],
      },
      { id: 'ord-9', status: 'x', createdAt: '', items: [] },
    ])
  })
})
