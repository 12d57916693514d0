import type { Order, OrderItem, OrderStatus } from './order.js'

/**
 * Where orders live. The example ships an in-memory implementation (`createMemoryOrderStore`);
 * a real API puts a database behind the same interface. The store knows nothing about who asks:
 * authorization happens in the routes, with the claims policy, before and after every call.
 */
export interface OrderStore {
  get(id: string): Promise<Order | undefined>
  listByCustomer(customerId: string): Promise<Order[]>
  listAll(): Promise<Order[]>
  create(draft: NewOrder): Promise<Order>
  /** Applies the change and returns the updated order, or `undefined` when there is no such id. */
  update(id: string, change: OrderChange): Promise<Order | undefined>
}

export interface NewOrder {
  readonly customerId: string
  readonly items: readonly OrderItem[]
  readonly notes: string
}

export interface OrderChange {
  readonly status?: OrderStatus
  readonly notes?: string
}
