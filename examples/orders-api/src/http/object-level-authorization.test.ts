/**
 * BOLA (OWASP API1) attacks on the orders API: every way a customer could reach another
 * customer's order. Each refusal must look exactly like a missing order, change nothing, and leave
 * an `access.denied` audit event the gateway's trail can join (jti + request id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoOrders } from '../orders/demo-orders.js'
import { createMemoryOrderStore } from '../orders/memory-store.js'
import {
  ADMIN,
  type OrdersApiFixture,
  startOrdersApi,
  type TestResponse,
} from '../test-support/orders-api-fixture.js'

let fx: OrdersApiFixture
let adminToken: string

const BOBS_ORDER = 'ord-000003'
const MISSING_ORDER = 'ord-999999'

beforeAll(async () => {
  // The demo orders, plus one owned by a customer whose id is all digits (for the typed-claim cases).
  const seed = demoOrders()
  const template = seed[0]
  if (template === undefined) throw new Error('no demo orders')
  seed.push({ ...template, id: 'ord-000005', customerId: '1001' })
  fx = await startOrdersApi({ store: createMemoryOrderStore({ seed }) })
  adminToken = await fx.sign({ ...ADMIN, customer_id: undefined })
})
afterAll(async () => {
  await fx?.close()
})

async function adminView(id: string): Promise<unknown> {
  return (await fx.call(`/orders/${id}`, { token: adminToken })).json()
}

function expectLikeMissingOrder(res: TestResponse, missing: TestResponse): void {
  expect(res.status).toBe(404)
  expect(res.text).toBe(missing.text)
  expect(res.headers['content-type']).toBe(missing.headers['content-type'])
  expect(res.headers['www-authenticate']).toBeUndefined()
}

describe('a customer reaching for another customer order', () => {
  it('cannot read it: 404 exactly like an order that does not exist, and an audit event', async () => {
    const token = await fx.sign({ jti: 'jti-bola-read', client_id: 'orders-web' })
    const missing = await fx.call(`/orders/${MISSING_ORDER}`, { token })
    const res = await fx.call(`/orders/${BOBS_ORDER}`, {
      token,
      headers: { 'x-request-id': 'req-bola-read' },
    })
    expectLikeMissingOrder(res, missing)
    expect(res.text).not.toMatch(/c-2002|LAMP/)
    const event = fx.auditEvents.find((e) => e.requestId === 'req-bola-read')
    expect(event).toMatchObject({
      type: 'access.denied',
      component: 'api',
      outcome: 'denied',
      tokenId: 'jti-bola-read',
      requestId: 'req-bola-read',
      subject: 'alice',
      clientId: 'orders-web',
      reason: 'policy.denied',
      details: { action: 'read', orderId: BOBS_ORDER, method: 'GET', route: '/orders/:id' },
    })
    // A missing order is not a policy denial and is not recorded as one.
    expect(fx.auditEvents.some((e) => e.details?.orderId === MISSING_ORDER)).toBe(false)
  })

  it('cannot change it: 404, the order is unchanged, audited', async () => {
    const before = await adminView(BOBS_ORDER)
    const res = await fx.call(`/orders/${BOBS_ORDER}`, {
      method: 'PATCH',
      token: await fx.sign({ jti: 'jti-bola-patch' }),
      body: { status: 'confirmed', notes: 'alice was here' },
    })
    expect(res.status).toBe(404)
    expect(res.json()).toMatchObject({ error: 'not_found' })
    expect(await adminView(BOBS_ORDER)).toEqual(before)
    expect(fx.auditEvents.find((e) => e.tokenId === 'jti-bola-patch')).toMatchObject({
      reason: 'policy.denied',
      details: { action: 'update', orderId: BOBS_ORDER },
    })
  })

  it('cannot cancel it: 404, the order is unchanged, audited', async () => {
    const before = await adminView(BOBS_ORDER)
    const res = await fx.call(`/orders/${BOBS_ORDER}`, {
      method: 'DELETE',
      token: await fx.sign({ jti: 'jti-bola-delete' }),
    })
    expect(res.status).toBe(404)
    expect(await adminView(BOBS_ORDER)).toEqual(before)
    expect(fx.auditEvents.find((e) => e.tokenId === 'jti-bola-delete')).toMatchObject({
      reason: 'policy.denied',
      details: { action: 'cancel' },
    })
  })

  it('learns nothing by walking sequential ids: every foreign or missing id answers the same 404', async () => {
    const token = await fx.sign({ jti: 'jti-walker' })
    const ids = Array.from({ length: 12 }, (_, n) => `ord-${String(n + 1).padStart(6, '0')}`)
    const answers = new Map<string, TestResponse>()
    for (const id of ids) answers.set(id, await fx.call(`/orders/${id}`, { token }))
    const notFound = await fx.call(`/orders/${MISSING_ORDER}`, { token })
    for (const [id, res] of answers) {
      if (id === 'ord-000001' || id === 'ord-000002') {
        expect(res.status).toBe(200)
      } else {
        expectLikeMissingOrder(res, notFound)
      }
    }
    // What the gateway's enumeration detector counts: many distinct ids, mostly 404.
    const refused = [...answers.values()].filter((res) => res.status === 404).length
    expect(refused).toBe(10)
    // Each existing foreign order left a policy denial joined to the walker's token.
    const denied = fx.auditEvents.filter(
      (e) => e.tokenId === 'jti-walker' && e.reason === 'policy.denied',
    )
    expect(denied.map((e) => e.details?.orderId)).toEqual([
      'ord-000003',
      'ord-000004',
      'ord-000005',
    ])
  })

  it('cannot place an order for another customer by sending customerId in the body', async () => {
    const before = await fx.call('/orders', { token: adminToken })
    for (const field of ['customerId', 'customer_id']) {
      const res = await fx.call('/orders', {
        method: 'POST',
        token: await fx.sign(),
        body: { items: [{ sku: 'BOOK-0042', quantity: 1 }], [field]: 'c-2002' },
      })
      expect(res.status).toBe(400)
      expect(res.headers['content-type']).toBe('application/problem+json')
    }
    expect((await fx.call('/orders', { token: adminToken })).json()).toEqual(before.json())
  })

  it('cannot move an own order to another customer by PATCHing customerId', async () => {
    const res = await fx.call('/orders/ord-000001', {
      method: 'PATCH',
      token: await fx.sign(),
      body: { notes: 'moving', customerId: 'c-2002' },
    })
    expect(res.status).toBe(400)
    expect(await adminView('ord-000001')).toMatchObject({
      customerId: 'c-1001',
      notes: 'leave at the door',
    })
  })

  it('cannot steer a list to another customer with a query parameter', async () => {
    const res = await fx.call('/orders?customerId=c-2002', { token: await fx.sign() })
    expect(res.status).toBe(400)
  })
})

describe('tokens whose customer claims are missing or mistyped', () => {
  it('a token without customer_id reads no order, lists nothing and creates nothing', async () => {
    const token = await fx.sign({ customer_id: undefined, jti: 'jti-no-customer' })
    expect((await fx.call('/orders/ord-000001', { token })).status).toBe(404)
    expect((await fx.call('/orders', { token })).status).toBe(403)
    const before = await fx.call('/orders', { token: adminToken })
    const create = await fx.call('/orders', {
      method: 'POST',
      token,
      body: { items: [{ sku: 'BOOK-0042', quantity: 1 }] },
    })
    expect(create.status).toBe(403)
    expect(create.json()).toMatchObject({ error: 'access_denied' })
    expect((await fx.call('/orders', { token: adminToken })).json()).toEqual(before.json())
    const reasons = fx.auditEvents
      .filter((e) => e.tokenId === 'jti-no-customer')
      .map((e) => e.details?.action)
    expect(reasons).toEqual(['read', 'list', 'create'])
  })

  it('a numeric customer_id never matches an owner id of the same digits', async () => {
    const token = await fx.sign({ customer_id: 1001 })
    expect((await fx.call('/orders/ord-000005', { token })).status).toBe(404)
    expect((await fx.call('/orders/ord-000005', { method: 'DELETE', token })).status).toBe(404)
    expect((await fx.call('/orders', { token })).status).toBe(403)
    const create = await fx.call('/orders', {
      method: 'POST',
      token,
      body: { items: [{ sku: 'BOOK-0042', quantity: 1 }] },
    })
    expect(create.status).toBe(403)
  })

  it('an array customer_id holding the owner id is not the owner', async () => {
    const token = await fx.sign({ customer_id: ['c-1001', 'c-2002'] })
    expect((await fx.call('/orders/ord-000001', { token })).status).toBe(404)
    expect((await fx.call(`/orders/${BOBS_ORDER}`, { token })).status).toBe(404)
    expect((await fx.call('/orders', { token })).status).toBe(403)
  })

  it('an object customer_id is not the owner', async () => {
    const token = await fx.sign({ customer_id: { toString: 'c-1001' } })
    expect((await fx.call('/orders/ord-000001', { token })).status).toBe(404)
  })

  it('customer_id without role customer is not enough', async () => {
    for (const role of [undefined, 'auditor', 'Customer']) {
      const token = await fx.sign({ role })
      expect((await fx.call('/orders/ord-000001', { token })).status).toBe(404)
    }
  })

  it('customer_id of the owner does not make an admin read internal fields', async () => {
    const res = await fx.call('/orders/ord-000001', { token: await fx.sign({ role: 'customer' }) })
    expect(res.status).toBe(200)
    expect(res.json()).not.toHaveProperty('fraudScore')
  })
})
