import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ADMIN,
  ALICE,
  BOB,
  type OrdersApiFixture,
  startOrdersApi,
} from '../test-support/orders-api-fixture.js'

/**
 * Random requests to the orders API over mTLS, as the gateway would pass them on: any method, id,
 * query and body, with Alice's, Bob's, an admin's, a scope-less, a foreign or no token. The API
 * answers with a 2xx–4xx (problem+json for errors), never a 5xx or a stack trace, and Alice never
 * sees or owns an order that is not hers (BOLA, OWASP API1, and mass assignment, API3).
 */
let fx: OrdersApiFixture
let adminToken = ''
const tokens: Record<string, string | undefined> = {}
beforeAll(async () => {
  fx = await startOrdersApi()
  const all = 'orders:read orders:write'
  tokens.alice = await fx.sign({ ...ALICE, scope: all })
  tokens.bob = await fx.sign({ ...BOB, scope: all })
  adminToken = await fx.sign({ ...ADMIN, customer_id: undefined, scope: all })
  tokens.admin = adminToken
  tokens.noScope = await fx.sign({ ...ALICE, scope: '' })
  tokens.stranger = await fx.signWithStrangerKey({ ...ALICE, scope: all })
  tokens.garbage = 'not-a-jwt'
  tokens.none = undefined
})
afterAll(async () => {
  await fx?.close()
})

const STACK_TRACE = /\bat [\w.<>]+ \(|\.ts:\d+|node_modules|node:internal/
const ID = fc.oneof(
  fc.constantFrom(
    '1',
    '1001',
    '2001',
    '0',
    '-1',
    '99999999999999999999',
    'ord-1',
    '%2e%2e',
    '..',
    '%00',
    'constructor',
    '__proto__',
  ),
  fc.string({ maxLength: 30 }).map((text) => encodeURIComponent(text)),
)
const PATH = fc.oneof(
  { arbitrary: fc.constant('/orders'), weight: 2 },
  ID.map((id) => `/orders/${id}`),
  fc
    .tuple(
      fc.constantFrom('status', 'customerId', 'customer_id', 'limit', 'x'),
      fc.string({ maxLength: 20 }),
    )
    .map(([name, value]) => `/orders?${new URLSearchParams([[name, value]])}`),
)
const ITEM = fc.record(
  {
    sku: fc.oneof(fc.constantFrom('BOOK-0042', 'PEN-1'), fc.string({ maxLength: 40 })),
    quantity: fc.oneof(fc.integer({ min: -2, max: 200 }), fc.double(), fc.string({ maxLength: 3 })),
    price: fc.integer(),
  },
  { requiredKeys: [] },
)
const BODY = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      items: fc.oneof(fc.array(ITEM, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
      notes: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })),
      status: fc.constantFrom('pending', 'confirmed', 'shipped', 'cancelled', 'x'),
      customerId: fc.constantFrom('c-2002', 'c-1001', ''),
      customer_id: fc.constant('c-2002'),
      fraudScore: fc.integer(),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 60 }),
)
const METHOD = fc.oneof(
  { arbitrary: fc.constant('GET'), weight: 3 },
  { arbitrary: fc.constantFrom('POST', 'PATCH', 'DELETE', 'PUT'), weight: 4 },
)
const WHO = fc.oneof(
  { arbitrary: fc.constant('alice'), weight: 4 },
  {
    arbitrary: fc.constantFrom('bob', 'admin', 'noScope', 'stranger', 'garbage', 'none'),
    weight: 6,
  },
)

/** The ids of every order, by owner, as an admin sees them. */
async function ownersById(): Promise<Map<string, string>> {
  const list = (await fx.call('/orders', { token: adminToken })).json<{
    orders: { id: string; customerId: string }[]
  }>()
  return new Map(list.orders.map((order) => [String(order.id), order.customerId]))
}

describe('random requests to the orders API (properties)', () => {
  it('answer a 2xx–4xx, never a 5xx or a stack trace, and never give Alice an order that is not hers', async () => {
    const seenByAlice = new Set<string>()
    await fc.assert(
      fc.asyncProperty(METHOD, PATH, BODY, WHO, async (method, path, body, who) => {
        const token = tokens[who]
        const text =
          body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
        const res = await fx.call(path, {
          method,
          ...(token === undefined ? {} : { token }),
          // An explicit length: node's client would otherwise send a GET or DELETE body unframed.
          ...(text === undefined
            ? {}
            : { body: text, headers: { 'content-length': String(Buffer.byteLength(text)) } }),
        })
        expect(res.status).toBeLessThan(500)
        expect(res.text).not.toMatch(STACK_TRACE)
        if (res.status >= 400 && res.text !== '') {
          expect(res.headers['content-type']).toBe('application/problem+json')
        }
        if (who === 'alice' && res.status < 300 && res.text !== '') {
          const answer = JSON.parse(res.text) as { id?: unknown; orders?: { id: unknown }[] }
          for (const order of answer.orders ?? [answer]) {
            if (order.id !== undefined) seenByAlice.add(String(order.id))
          }
        }
      }),
      { numRuns: 150 },
    )
    // Alice did read orders during the run, so the ownership check below has something to check.
    expect(seenByAlice.size).toBeGreaterThan(0)
    const owners = await ownersById()
    for (const id of seenByAlice) expect(owners.get(id), `order ${id}`).toBe(ALICE.customer_id)
  })
})
