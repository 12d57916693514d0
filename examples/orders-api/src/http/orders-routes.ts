import { AccessDenied, type VerifiedToken } from '@gatehouse/jwt'
import { requireScope } from '@gatehouse/jwt/fastify'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OrderConflict, OrderNotFound } from '../errors.js'
import type { Order } from '../orders/order.js'
import {
  customerIdOf,
  type OrderAction,
  type OrderOwner,
  orderPolicy,
} from '../orders/order-policy.js'
import { viewOrder } from '../orders/order-view.js'
import type { OrderStore } from '../orders/store.js'
import type { RefusalAuditor } from './audit-refusal.js'
import {
  type CreateOrderBody,
  createOrderBody,
  type ListOrdersQuery,
  listOrdersQuery,
  type OrderIdParams,
  orderIdParams,
  type UpdateOrderBody,
  updateOrderBody,
} from './schemas.js'

export interface OrdersRoutesDeps {
  readonly store: OrderStore
  readonly auditRefusal: RefusalAuditor
}

/**
 * The five routes. Each runs, in order: schema validation (400) → `jwtAuth` (401) → the route's
 * scope (403 insufficient_scope) → load the order → the claims policy (404 / 403) → the change.
 * Register inside the plugin that registered `jwtAuth`.
 */
export function registerOrdersRoutes(api: FastifyInstance, deps: OrdersRoutesDeps): void {
  const { store, auditRefusal } = deps

  /**
   * Loads an order the caller may act on. An order the caller may neither read nor act on is
   * answered exactly like a missing one (404), and the refusal is audited; an order the caller may
   * read but not change (an admin writing) is a 403.
   */
  async function loadOrderFor(
    request: FastifyRequest,
    id: string,
    action: OrderAction,
  ): Promise<{ order: Order; token: VerifiedToken }> {
    const token = verifiedToken(request)
    const order = await store.get(id)
    if (order === undefined) throw new OrderNotFound('order.not_found')
    const allowed = orderPolicy.allows(action, token, order)
    if (!allowed && !orderPolicy.allows('read', token, order)) {
      auditRefusal(request, 'policy.denied', { action })
      throw new OrderNotFound('policy.denied')
    }
    if (!allowed) throw new AccessDenied(action) // audited by the plugin's error handler
    return { order, token }
  }

  api.get<{ Querystring: ListOrdersQuery }>(
    '/orders',
    { schema: { querystring: listOrdersQuery }, preHandler: requireScope('orders:read') },
    async function listOrders(request) {
      const token = verifiedToken(request)
      const own: OrderOwner = { customerId: customerIdOf(token) }
      let candidates: Order[]
      if (orderPolicy.allows('listAll', token, own)) {
        candidates = await store.listAll()
      } else if (own.customerId !== undefined && orderPolicy.allows('list', token, own)) {
        candidates = await store.listByCustomer(own.customerId)
      } else {
        throw new AccessDenied('list') // audited by the plugin's error handler
      }
      const wanted = request.query.status
      // Every order is checked again, so a store bug cannot leak another customer's order.
      const orders = candidates
        .filter((order) => orderPolicy.allows('read', token, order))
        .filter((order) => wanted === undefined || order.status === wanted)
        .map((order) => viewOrder(order, token))
      return { orders }
    },
  )

  api.get<{ Params: OrderIdParams }>(
    '/orders/:id',
    { schema: { params: orderIdParams }, preHandler: requireScope('orders:read') },
    async function readOrder(request) {
      const { order, token } = await loadOrderFor(request, request.params.id, 'read')
      return viewOrder(order, token)
    },
  )

  api.post<{ Body: CreateOrderBody }>(
    '/orders',
    { schema: { body: createOrderBody }, preHandler: requireScope('orders:write') },
    async function createOrder(request, reply) {
      const token = verifiedToken(request)
      // The owner is the token's customer_id, never a field of the request.
      const customerId = customerIdOf(token)
      orderPolicy.assert('create', token, { customerId })
      if (customerId === undefined) throw new AccessDenied('create') // denied above already
      const order = await store.create({
        customerId,
        items: request.body.items,
        notes: request.body.notes ?? '',
      })
      return reply.code(201).header('location', `/orders/${order.id}`).send(viewOrder(order, token))
    },
  )

  api.patch<{ Params: OrderIdParams; Body: UpdateOrderBody }>(
    '/orders/:id',
    {
      schema: { params: orderIdParams, body: updateOrderBody },
      preHandler: requireScope('orders:write'),
    },
    async function updateOrder(request) {
      const { order, token } = await loadOrderFor(request, request.params.id, 'update')
      const { status, notes } = request.body
      if (order.status === 'shipped' || order.status === 'cancelled') {
        throw new OrderConflict(`a ${order.status} order cannot be changed`)
      }
      if (status === 'confirmed' && order.status !== 'pending' && order.status !== 'confirmed') {
        throw new OrderConflict('only a pending order can be confirmed')
      }
      const updated = await store.update(order.id, {
        ...(status === undefined ? {} : { status }),
        ...(notes === undefined ? {} : { notes }),
      })
      if (updated === undefined) throw new OrderNotFound('order.not_found')
      return viewOrder(updated, token)
    },
  )

  api.delete<{ Params: OrderIdParams }>(
    '/orders/:id',
    { schema: { params: orderIdParams }, preHandler: requireScope('orders:write') },
    async function cancelOrder(request) {
      const { order, token } = await loadOrderFor(request, request.params.id, 'cancel')
      if (order.status === 'shipped') throw new OrderConflict('a shipped order cannot be cancelled')
      if (order.status === 'cancelled') return viewOrder(order, token) // cancelling twice is a no-op
      const updated = await store.update(order.id, { status: 'cancelled' })
      if (updated === undefined) throw new OrderNotFound('order.not_found')
      return viewOrder(updated, token)
    },
  )
}

function verifiedToken(request: FastifyRequest): VerifiedToken {
  // jwtAuth runs before every route of this plugin; reaching here without a token is a wiring bug.
  if (request.auth === undefined) throw new Error('jwtAuth did not run before an orders route')
  return request.auth
}
