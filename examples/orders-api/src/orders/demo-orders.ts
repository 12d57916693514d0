import type { Order } from './order.js'

/** The demo customers: the `customer_id` claims the dev stack's users carry. */
export const DEMO_CUSTOMERS = { alice: 'c-1001', bob: 'c-2002' } as const

/** Two orders each for alice (`c-1001`) and bob (`c-2002`), with internal fields filled in. */
export function demoOrders(): Order[] {
  const time = '2026-01-15T09:30:00.000Z'
  const order = (
    id: string,
    customerId: string,
    status: Order['status'],
    sku: string,
    extra: { notes?: string; internalNotes?: string; fraudScore?: number } = {},
  ): Order => ({
    id,
    customerId,
    status,
    items: [{ sku, quantity: 1 }],
    notes: extra.notes ?? '',
    internalNotes: extra.internalNotes ?? '',
    fraudScore: extra.fraudScore ?? 3,
    createdAt: time,
    updatedAt: time,
  })
  return [
    order('ord-000001', DEMO_CUSTOMERS.alice, 'pending', 'BOOK-0042', {
      notes: 'leave at the door',
      internalNotes: 'repeat customer',
    }),
    order('ord-000002', DEMO_CUSTOMERS.alice, 'shipped', 'MUG-0007'),
    order('ord-000003', DEMO_CUSTOMERS.bob, 'pending', 'LAMP-0100', {
      internalNotes: 'address checked by phone',
      fraudScore: 41,
    }),
    order('ord-000004', DEMO_CUSTOMERS.bob, 'confirmed', 'PEN-0003'),
  ]
}
