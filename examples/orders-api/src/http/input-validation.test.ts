import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, type OrdersApiFixture, startOrdersApi } from '../test-support/orders-api-fixture.js'

let fx: OrdersApiFixture
let token: string

beforeAll(async () => {
  fx = await startOrdersApi()
  token = await fx.sign()
})
afterAll(async () => {
  await fx?.close()
})

const GOOD_ITEM = { sku: 'BOOK-0042', quantity: 1 }

async function allOrders(): Promise<unknown> {
  const admin = await fx.sign({ ...ADMIN, customer_id: undefined })
  return (await fx.call('/orders', { token: admin })).json()
}

function expectProblem(
  res: { status: number; headers: Record<string, unknown>; text: string },
  status: number,
): void {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toBe('application/problem+json')
  const body = JSON.parse(res.text) as Record<string, unknown>
  expect(body).toMatchObject({ type: 'about:blank', status })
  // Never a stack trace or a source path.
  expect(res.text).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+|node_modules/)
}

describe('bad order bodies are refused with 400 problem+json and create nothing', () => {
  const badBodies: [string, unknown][] = [
    ['an unknown field', { items: [GOOD_ITEM], discount: 100 }],
    ['a status set by the customer', { items: [GOOD_ITEM], status: 'shipped' }],
    ['internal fields', { items: [GOOD_ITEM], fraudScore: 0, internalNotes: 'vip' }],
    ['no items', {}],
    ['an empty item list', { items: [] }],
    ['21 items', { items: Array.from({ length: 21 }, () => GOOD_ITEM) }],
    ['quantity 0', { items: [{ sku: 'BOOK-0042', quantity: 0 }] }],
    ['quantity 101', { items: [{ sku: 'BOOK-0042', quantity: 101 }] }],
    ['a fractional quantity', { items: [{ sku: 'BOOK-0042', quantity: 1.5 }] }],
    ['a quantity as a string (no coercion)', { items: [{ sku: 'BOOK-0042', quantity: '2' }] }],
    ['a lower-case sku', { items: [{ sku: 'book-0042', quantity: 1 }] }],
    ['a 33-character sku', { items: [{ sku: 'A'.repeat(33), quantity: 1 }] }],
    ['an unknown item field', { items: [{ ...GOOD_ITEM, price: 0 }] }],
    ['notes of 501 characters', { items: [GOOD_ITEM], notes: 'n'.repeat(501) }],
    ['notes that are not a string', { items: [GOOD_ITEM], notes: ['x'] }],
    ['an array body', [GOOD_ITEM]],
    ['a JSON string body', '"items"'],
    ['malformed JSON', '{"items": [}'],
    [
      'a prototype-pollution body',
      '{"items":[{"sku":"BOOK-0042","quantity":1}],"__proto__":{"role":"admin"}}',
    ],
  ]
  for (const [name, body] of badBodies) {
    it(`refuses ${name}`, async () => {
      const before = await allOrders()
      const res = await fx.call('/orders', { method: 'POST', token, body })
      expectProblem(res, 400)
      expect(await allOrders()).toEqual(before)
    })
  }

  it('refuses a body that is not JSON with 415', async () => {
    const res = await fx.call('/orders', {
      method: 'POST',
      token,
      body: 'items=BOOK-0042',
      headers: { 'content-type': 'text/plain' },
    })
    expectProblem(res, 415)
  })

  it('refuses a body over 16 KiB with 413', async () => {
    const res = await fx.call('/orders', {
      method: 'POST',
      token,
      body: { items: [GOOD_ITEM], notes: 'n'.repeat(20_000) },
    })
    expectProblem(res, 413)
  })

  it('refuses an access token sent in the body (400 invalid_request)', async () => {
    const res = await fx.call('/orders', {
      method: 'POST',
      body: { items: [GOOD_ITEM], access_token: token },
    })
    expect(res.status).toBe(400)
    expect(res.text).not.toContain(token)
  })
})

describe('bad changes are refused with 400 and change nothing', () => {
  const badChanges: [string, unknown][] = [
    ['an empty change', {}],
    ['status shipped (staff only)', { status: 'shipped' }],
    ['status cancelled (that is DELETE)', { status: 'cancelled' }],
    ['status pending', { status: 'pending' }],
    ['an unknown field', { notes: 'x', priority: 'high' }],
    ['items (not changeable)', { items: [GOOD_ITEM] }],
    ['notes of 501 characters', { notes: 'n'.repeat(501) }],
    ['null notes', { notes: null }],
  ]
  for (const [name, body] of badChanges) {
    it(`refuses ${name}`, async () => {
      const before = await allOrders()
      const res = await fx.call('/orders/ord-000001', { method: 'PATCH', token, body })
      expectProblem(res, 400)
      expect(await allOrders()).toEqual(before)
    })
  }
})

describe('bad order ids are refused with 400 on every method', () => {
  const badIds = [
    '1',
    'ord-1',
    'ord-0000011',
    'ORD-000001',
    'ord-00000a',
    'ord-000001%00',
    'ord-000001.json',
    'ord-000001;x',
  ]
  for (const id of badIds) {
    it(`refuses the id ${JSON.stringify(id)}`, async () => {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const res = await fx.call(`/orders/${id}`, {
          method,
          token,
          ...(method === 'PATCH' ? { body: { notes: 'x' } } : {}),
        })
        expectProblem(res, 400)
      }
    })
  }

  it('refuses an overlong id with a problem, not a crash', async () => {
    const res = await fx.call(`/orders/ord-${'0'.repeat(500)}`, { token })
    expectProblem(res, 414)
  })

  it('refuses an id that is not valid percent-encoding with a problem', async () => {
    expectProblem(await fx.call('/orders/ord-%E0%A4%A', { token }), 400)
  })

  it('refuses an unknown list filter', async () => {
    expectProblem(await fx.call('/orders?status=lost', { token }), 400)
    expectProblem(await fx.call('/orders?limit=10', { token }), 400)
  })
})
