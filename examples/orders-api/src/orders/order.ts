/** An order as the store keeps it: every field, internal ones included. */
export interface Order {
  readonly id: string
  /** The owner: the `customer_id` claim of the customer who placed it. */
  readonly customerId: string
  readonly status: OrderStatus
  readonly items: readonly OrderItem[]
  /** What the customer wrote; visible to the customer. */
  readonly notes: string
  /** Staff-only remarks; never shown to customers. */
  readonly internalNotes: string
  /** The fraud check's score, 0–100; never shown to customers. */
  readonly fraudScore: number
  /** ISO 8601, UTC. */
  readonly createdAt: string
  readonly updatedAt: string
}

export interface OrderItem {
  readonly sku: string
  readonly quantity: number
}

export const ORDER_STATUSES = ['pending', 'confirmed', 'shipped', 'cancelled'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

/** Order ids: `ord-` and six digits. Sequential on purpose: guessing one must not be enough. */
export const ORDER_ID_PATTERN = '^ord-[0-9]{6}$'
