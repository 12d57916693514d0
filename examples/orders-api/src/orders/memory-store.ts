import type { Order } from './order.js'
import type { NewOrder, OrderChange, OrderStore } from './store.js'

export interface MemoryOrderStoreOptions {
  /** Orders to start with (e.g. `demoOrders()`); ids must follow `ord-NNNNNN`. */
  readonly seed?: readonly Order[]
  readonly now?: () => number
}

/**
 * An in-memory `OrderStore` for the example and its tests: orders live in a Map and are lost on
 * restart. New ids continue the sequence after the highest seeded id. Every order handed out is
 * frozen, so a route cannot change the store by mutating what it read.
 */
export function createMemoryOrderStore(options: MemoryOrderStoreOptions = {}): OrderStore {
  const now = options.now ?? Date.now
  const orders = new Map<string, Order>()
  let lastNumber = 0
  for (const order of options.seed ?? []) {
    orders.set(order.id, freeze(order))
    lastNumber = Math.max(lastNumber, Number(order.id.slice(4)))
  }

  return {
    async get(id) {
      return orders.get(id)
    },
    async listByCustomer(customerId) {
      return [...orders.values()].filter((order) => order.customerId === customerId)
    },
    async listAll() {
      return [...orders.values()]
    },
    async create(draft: NewOrder) {
      lastNumber += 1
      const time = new Date(now()).toISOString()
      const order = freeze({
        id: `ord-${String(lastNumber).padStart(6, '0')}`,
        customerId: draft.customerId,
        status: 'pending',
        items: draft.items,
        notes: draft.notes,
        internalNotes: '',
        fraudScore: 0,
        createdAt: time,
        updatedAt: time,
      })
      orders.set(order.id, order)
      return order
    },
    async update(id: string, change: OrderChange) {
      const current = orders.get(id)
      if (current === undefined) return undefined
      const updated = freeze({
        ...current,
        ...(change.status === undefined ? {} : { status: change.status }),
        ...(change.notes === undefined ? {} : { notes: change.notes }),
        updatedAt: new Date(now()).toISOString(),
      })
      orders.set(id, updated)
      return updated
    },
  }
}

function freeze(order: Order): Order {
  return Object.freeze({
    ...order,
    items: Object.freeze(order.items.map((item) => Object.freeze({ ...item }))),
  })
}
