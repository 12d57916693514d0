import { describe, expect, it } from 'vitest'
import { demoOrders } from './demo-orders.js'
import { createMemoryOrderStore } from './memory-store.js'

describe('the in-memory order store', () => {
  it('continues the id sequence after the seed and keeps orders per customer', async () => {
    const store = createMemoryOrderStore({ seed: demoOrders(), now: () => Date.UTC(2026, 0, 1) })
    const created = await store.create({
      customerId: 'c-1001',
      items: [{ sku: 'A-1', quantity: 1 }],
      notes: '',
    })
    expect(created).toMatchObject({
      id: 'ord-000005',
      status: 'pending',
      createdAt: '2026-01-01T00:00:00.000Z',
    })
    expect((await store.listByCustomer('c-1001')).map((order) => order.id)).toEqual([
      'ord-000001',
      'ord-000002',
      'ord-000005',
    ])
    expect(await store.listAll()).toHaveLength(5)
  })

  it('hands out frozen orders, so a reader cannot change the store', async () => {
    const store = createMemoryOrderStore({ seed: demoOrders() })
    const order = await store.get('ord-000001')
    expect(Object.isFrozen(order)).toBe(true)
    expect(Object.isFrozen(order?.items[0])).toBe(true)
  })

  it('applies a change and leaves the other fields alone', async () => {
    const store = createMemoryOrderStore({ seed: demoOrders() })
    const before = await store.get('ord-000003')
    const after = await store.update('ord-000003', { notes: 'new' })
    expect(after).toEqual({ ...before, notes: 'new', updatedAt: after?.updatedAt })
    expect(await store.update('ord-999999', { notes: 'x' })).toBeUndefined()
  })
})
