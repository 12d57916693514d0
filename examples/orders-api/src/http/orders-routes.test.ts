import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ADMIN,
  BOB,
  ISSUER,
  type OrdersApiFixture,
  startOrdersApi,
} from '../test-support/orders-api-fixture.js'

let fx: OrdersApiFixture

beforeAll(async () => {
  fx = await startOrdersApi()
})
afterAll(async () => {
  await fx?.close()
})

interface OrderBody {
  id: string
  customerId: string
  status: string
  [field: string]: unknown
}

const CUSTOMER_FIELDS = ['createdAt', 'customerId', 'id', 'items', 'notes', 'status', 'updatedAt']
const ADMIN_FIELDS = [...CUSTOMER_FIELDS, 'fraudScore', 'internalNotes'].sort()

describe('a customer on their own orders', () => {
  it('lists only their own orders, without internal fields', async () => {
    const res = await fx.call('/orders', { token: await fx.sign() })
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const { orders } = res.json<{ orders: OrderBody[] }>()
    expect(orders.map((order) => order.id)).toEqual(['ord-000001', 'ord-000002'])
    for (const order of orders) {
      expect(order.customerId).toBe('c-1001')
      expect(Object.keys(order).sort()).toEqual(CUSTOMER_FIELDS)
    }
    expect(res.text).not.toMatch(/internalNotes|fraudScore|repeat customer/)
  })

  it('filters the list by status', async () => {
    const res = await fx.call('/orders?status=shipped', { token: await fx.sign() })
    expect(res.json<{ orders: OrderBody[] }>().orders.map((order) => order.id)).toEqual([
      'ord-000002',
    ])
  })

  it('reads one own order, without internal fields', async () => {
    const res = await fx.call('/orders/ord-000001', { token: await fx.sign() })
    expect(res.status).toBe(200)
    const order = res.json<OrderBody>()
    expect(order).toMatchObject({
      id: 'ord-000001',
      customerId: 'c-1001',
      notes: 'leave at the door',
    })
    expect(Object.keys(order).sort()).toEqual(CUSTOMER_FIELDS)
  })

  it('creates an order owned by the token customer_id, and reads it back', async () => {
    const token = await fx.sign({ sub: 'bob', customer_id: 'c-2002' })
    const res = await fx.call('/orders', {
      method: 'POST',
      token,
      body: { items: [{ sku: 'TEA-0001', quantity: 3 }], notes: 'gift wrap' },
    })
    expect(res.status).toBe(201)
    const created = res.json<OrderBody>()
    expect(created).toMatchObject({ customerId: 'c-2002', status: 'pending', notes: 'gift wrap' })
    expect(created.id).toMatch(/^ord-\d{6}$/)
    expect(res.headers.location).toBe(`/orders/${created.id}`)
    expect(Object.keys(created).sort()).toEqual(CUSTOMER_FIELDS)
    const again = await fx.call(`/orders/${created.id}`, { token })
    expect(again.json()).toEqual(created)
  })

  it('confirms a pending own order and changes its notes', async () => {
    const token = await fx.sign({ ...BOB })
    const res = await fx.call('/orders/ord-000003', {
      method: 'PATCH',
      token,
      body: { status: 'confirmed', notes: 'ring twice' },
    })
    expect(res.status).toBe(200)
    expect(res.json()).toMatchObject({ id: 'ord-000003', status: 'confirmed', notes: 'ring twice' })
  })

  it('cancels an own order; cancelling again changes nothing', async () => {
    const token = await fx.sign({ ...BOB })
    const res = await fx.call('/orders/ord-000004', { method: 'DELETE', token })
    expect(res.status).toBe(200)
    expect(res.json()).toMatchObject({ id: 'ord-000004', status: 'cancelled' })
    const again = await fx.call('/orders/ord-000004', { method: 'DELETE', token })
    expect(again.status).toBe(200)
    expect(again.json()).toEqual(res.json())
  })

  it('answers 409 to cancelling or changing a shipped order, and leaves it as it was', async () => {
    const token = await fx.sign()
    const before = (await fx.call('/orders/ord-000002', { token })).json()
    const cancel = await fx.call('/orders/ord-000002', { method: 'DELETE', token })
    expect(cancel.status).toBe(409)
    expect(cancel.json()).toMatchObject({ status: 409, error: 'conflict' })
    const patch = await fx.call('/orders/ord-000002', {
      method: 'PATCH',
      token,
      body: { notes: 'x' },
    })
    expect(patch.status).toBe(409)
    expect((await fx.call('/orders/ord-000002', { token })).json()).toEqual(before)
  })
})

describe('an admin', () => {
  it('lists every customer order with the internal fields', async () => {
    const res = await fx.call('/orders', {
      token: await fx.sign({ ...ADMIN, customer_id: undefined }),
    })
    expect(res.status).toBe(200)
    const { orders } = res.json<{ orders: OrderBody[] }>()
    expect(new Set(orders.map((order) => order.customerId))).toEqual(new Set(['c-1001', 'c-2002']))
    for (const order of orders) expect(Object.keys(order).sort()).toEqual(ADMIN_FIELDS)
  })

  it('reads any order with internalNotes and fraudScore', async () => {
    const token = await fx.sign({ ...ADMIN, customer_id: undefined, scope: 'orders:read' })
    const res = await fx.call('/orders/ord-000001', { token })
    expect(res.status).toBe(200)
    expect(res.json()).toMatchObject({ customerId: 'c-1001', internalNotes: 'repeat customer' })
    expect(typeof res.json().fraudScore).toBe('number')
  })

  it('may not change or cancel orders (admins are read-only): 403, audited, order unchanged', async () => {
    const token = await fx.sign({ ...ADMIN, customer_id: undefined })
    const before = (await fx.call('/orders/ord-000001', { token })).json()
    const patch = await fx.call('/orders/ord-000001', {
      method: 'PATCH',
      token,
      body: { notes: 'changed by staff' },
      headers: { 'x-request-id': 'req-admin-patch' },
    })
    expect(patch.status).toBe(403)
    expect(patch.json()).toMatchObject({ status: 403, error: 'access_denied' })
    const cancel = await fx.call('/orders/ord-000001', { method: 'DELETE', token })
    expect(cancel.status).toBe(403)
    const create = await fx.call('/orders', {
      method: 'POST',
      token,
      body: { items: [{ sku: 'BOOK-0042', quantity: 1 }] },
    })
    expect(create.status).toBe(403)
    expect((await fx.call('/orders/ord-000001', { token })).json()).toEqual(before)
    expect(fx.auditEvents.find((event) => event.requestId === 'req-admin-patch')).toMatchObject({
      type: 'access.denied',
      reason: 'policy.denied',
      subject: 'ada',
      details: { action: 'update', orderId: 'ord-000001', method: 'PATCH' },
    })
  })

  it('is recognised only by a string role claim: role ["admin"] is not an admin', async () => {
    const res = await fx.call('/orders/ord-000003', {
      token: await fx.sign({ role: ['admin'], customer_id: undefined }),
    })
    expect(res.status).toBe(404)
  })
})

describe('scopes', () => {
  it('refuses reading without orders:read (403 insufficient_scope with the needed scope), audited', async () => {
    const res = await fx.call('/orders/ord-000001', {
      token: await fx.sign({ scope: 'orders:write', jti: 'jti-no-read-scope' }),
    })
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toMatch(
      /error="insufficient_scope".*scope="orders:read"/,
    )
    expect(res.json()).toMatchObject({ error: 'insufficient_scope' })
    expect(fx.auditEvents.find((event) => event.tokenId === 'jti-no-read-scope')).toMatchObject({
      type: 'access.denied',
      reason: 'scope.insufficient',
      subject: 'alice',
      clientId: 'orders-web',
      details: { orderId: 'ord-000001', method: 'GET' },
    })
  })

  it('refuses every write without orders:write, changing nothing', async () => {
    const token = await fx.sign({ scope: 'orders:read' })
    const attempts = [
      fx.call('/orders', {
        method: 'POST',
        token,
        body: { items: [{ sku: 'BOOK-0042', quantity: 1 }] },
      }),
      fx.call('/orders/ord-000001', { method: 'PATCH', token, body: { notes: 'no' } }),
      fx.call('/orders/ord-000001', { method: 'DELETE', token }),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403)
      expect(res.headers['www-authenticate']).toMatch(/scope="orders:write"/)
    }
    const own = await fx.call('/orders', { token })
    expect(own.json<{ orders: OrderBody[] }>().orders.map((order) => order.status)).toEqual([
      'pending',
      'shipped',
    ])
  })

  it('refuses a token without any scope claim', async () => {
    const res = await fx.call('/orders', { token: await fx.sign({ scope: undefined }) })
    expect(res.status).toBe(403)
    expect(res.json()).toMatchObject({ error: 'insufficient_scope' })
  })

  it('lets a token with only orders:write change its own order (no read scope needed)', async () => {
    const token = await fx.sign({ scope: 'orders:write' })
    const res = await fx.call('/orders/ord-000001', {
      method: 'PATCH',
      token,
      body: { notes: 'door' },
    })
    expect(res.status).toBe(200)
  })
})

describe('the JWT is verified again, whatever the gateway did', () => {
  it('answers 401 with a Bearer challenge and no error code when there is no token', async () => {
    const res = await fx.call('/orders')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
  })

  it('refuses a valid token minted for another audience', async () => {
    const res = await fx.call('/orders', {
      token: await fx.sign({ aud: 'urn:gatehouse:api:billing' }),
      headers: { 'x-request-id': 'req-wrong-aud' },
    })
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/)
    expect(fx.auditEvents.find((event) => event.requestId === 'req-wrong-aud')).toMatchObject({
      type: 'access.denied',
      reason: 'jwt.wrong_audience',
    })
  })

  it('refuses a token of another issuer', async () => {
    const res = await fx.call('/orders', { token: await fx.sign({ iss: `${ISSUER}/evil` }) })
    expect(res.status).toBe(401)
  })

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600
    const res = await fx.call('/orders', { token: await fx.sign({ iat: past - 300, exp: past }) })
    expect(res.status).toBe(401)
  })

  it('refuses an ID token (typ JWT instead of at+jwt)', async () => {
    const res = await fx.call('/orders', { token: await fx.sign({}, { typ: 'JWT' }) })
    expect(res.status).toBe(401)
  })

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const res = await fx.call('/orders', { token: await fx.signWithStrangerKey() })
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/)
  })

  it('refuses a token in the query string', async () => {
    const token = await fx.sign()
    const res = await fx.call(`/orders?access_token=${token}`)
    expect(res.status).toBe(400)
    expect(res.text).not.toContain(token)
  })
})

describe('the audit trail', () => {
  it('never holds a token, whatever was refused', async () => {
    expect(fx.auditEvents.length).toBeGreaterThan(5)
    const trail = JSON.stringify(fx.auditEvents)
    expect(trail).not.toMatch(/eyJ[\w-]+\.[\w-]+/)
    expect(trail).not.toMatch(/Bearer /)
  })
})

describe('unknown routes and request ids', () => {
  it('answers 404 problem+json for an unknown route', async () => {
    const res = await fx.call('/admin/orders', { token: await fx.sign() })
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'no such resource',
      error: 'not_found',
    })
  })

  it('answers 404 problem+json for a method the API does not have', async () => {
    const res = await fx.call('/orders/ord-000001', { method: 'PUT', token: await fx.sign() })
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json')
  })

  it('replaces a malformed X-Request-Id instead of carrying it into the audit trail', async () => {
    await fx.call('/orders/ord-000003', {
      token: await fx.sign(),
      headers: { 'x-request-id': 'bad id\twith spaces' },
    })
    const event = fx.auditEvents.at(-1)
    expect(event?.requestId).toMatch(/^[0-9a-f-]{36}$/)
  })
})
