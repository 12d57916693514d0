import { ORDER_ID_PATTERN, ORDER_STATUSES } from '../orders/order.js'

/**
 * JSON schemas of every input. All objects are closed (`additionalProperties: false`; the app
 * turns Ajv's `removeAdditional` off, so an extra field is a 400, not silently dropped) and every
 * string and array is bounded. `customerId` appears in no input schema: the owner of an order
 * comes from the token only.
 */
export const orderIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: ORDER_ID_PATTERN } },
  required: ['id'],
  additionalProperties: false,
} as const

export const listOrdersQuery = {
  type: 'object',
  properties: { status: { type: 'string', enum: ORDER_STATUSES } },
  additionalProperties: false,
} as const

const orderItem = {
  type: 'object',
  properties: {
    sku: { type: 'string', pattern: '^[A-Z0-9-]{3,32}$' },
    quantity: { type: 'integer', minimum: 1, maximum: 100 },
  },
  required: ['sku', 'quantity'],
  additionalProperties: false,
} as const

const notes = { type: 'string', maxLength: 500 } as const

export const createOrderBody = {
  type: 'object',
  properties: {
    items: { type: 'array', items: orderItem, minItems: 1, maxItems: 20 },
    notes,
  },
  required: ['items'],
  additionalProperties: false,
} as const

/** A customer may confirm a pending order or change its notes; cancelling is `DELETE`. */
export const updateOrderBody = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['confirmed'] },
    notes,
  },
  minProperties: 1,
  additionalProperties: false,
} as const

export interface OrderIdParams {
  id: string
}
export interface ListOrdersQuery {
  status?: (typeof ORDER_STATUSES)[number]
}
export interface CreateOrderBody {
  items: { sku: string; quantity: number }[]
  notes?: string
}
export interface UpdateOrderBody {
  status?: 'confirmed'
  notes?: string
}
