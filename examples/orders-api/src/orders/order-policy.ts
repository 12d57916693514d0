import { allOf, anyOf, claim, definePolicy, scope, type VerifiedToken } from '@gatehouse/jwt'

/**
 * What the rules look at: an order's owner. For `create` and `list` it is the caller's own
 * `customer_id` (`undefined` when the token has none, which every ownership rule denies).
 */
export interface OrderOwner {
  readonly customerId: string | undefined
}

// Each rule reads claims the authorization server signed, never the request: the owner to compare
// with comes from the stored order (or, for a new order, from the token itself).
const isAdmin = claim('role').oneOf('admin')
const isCustomer = claim('role').oneOf('customer')
const ownsOrder = claim('customer_id').equals((order: OrderOwner) => order.customerId)

/**
 * The orders API's rules, deny by default: an action not in this table, a missing or mistyped
 * claim (`customer_id: 1001`, `role: ['admin']`), or an order without an owner is refused.
 * Admins read everything but change nothing: staff write access would be a separate role with
 * its own scope, not a side effect of being able to look.
 */
export const orderPolicy = definePolicy<OrderOwner, OrderAction>({
  /** See an order: an admin, or the customer who owns it. */
  read: allOf(scope('orders:read'), anyOf<OrderOwner>(isAdmin, allOf(isCustomer, ownsOrder))),
  /** List the orders of a customer: that customer only (asked with the caller's own id). */
  list: allOf(scope('orders:read'), isCustomer, ownsOrder),
  /** List every customer's orders: admins only. */
  listAll: allOf(scope('orders:read'), isAdmin),
  /** See `internalNotes` and `fraudScore`: admins only. */
  readInternal: allOf(scope('orders:read'), isAdmin),
  /** Place an order: a customer, for their own `customer_id` only. */
  create: allOf(scope('orders:write'), isCustomer, ownsOrder),
  /** Change status or notes: the owning customer only. */
  update: allOf(scope('orders:write'), isCustomer, ownsOrder),
  /** Cancel: the owning customer only. */
  cancel: allOf(scope('orders:write'), isCustomer, ownsOrder),
})

export type OrderAction =
  | 'read'
  | 'list'
  | 'listAll'
  | 'readInternal'
  | 'create'
  | 'update'
  | 'cancel'

const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The caller's `customer_id` claim when it is a well-formed string, else `undefined` — and a rule
 * comparing with `undefined` always denies. This is the only source of a new order's owner.
 */
export function customerIdOf(token: VerifiedToken): string | undefined {
  const value = Object.hasOwn(token.claims, 'customer_id') ? token.claims.customer_id : undefined
  return typeof value === 'string' && CUSTOMER_ID.test(value) ? value : undefined
}
