import type { VerifiedToken } from '@gatehouse/jwt'
import type { Order, OrderItem, OrderStatus } from './order.js'
import { orderPolicy } from './order-policy.js'

/** What a customer sees of their own order. */
export interface CustomerOrderView {
  readonly id: string
  readonly customerId: string
  readonly status: OrderStatus
  readonly items: readonly OrderItem[]
  readonly notes: string
  readonly createdAt: string
  readonly updatedAt: string
}

/** What an admin sees: everything. */
export interface AdminOrderView extends CustomerOrderView {
  readonly internalNotes: string
  readonly fraudScore: number
}

/**
 * Shapes an order for the caller. Built field by field from an allow-list (never by deleting
 * fields), so a field added to `Order` later stays hidden until someone decides who may see it.
 * Call only after `orderPolicy.allows('read', …)`.
 */
export function viewOrder(order: Order, token: VerifiedToken): CustomerOrderView | AdminOrderView {
  const view: CustomerOrderView = {
    id: order.id,
    customerId: order.customerId,
    status: order.status,
    items: order.items.map((item) => ({ sku: item.sku, quantity: item.quantity })),
    notes: order.notes,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  }
  if (!orderPolicy.allows('readInternal', token, order)) return view
  return { ...view, internalNotes: order.internalNotes, fraudScore: order.fraudScore }
}
