export {
  createOrdersApi,
  ORDERS_API_AUDIENCE,
  type OrdersApi,
  type OrdersApiOptions,
} from './create-orders-api.js'
export {
  ClientCertificateNotAllowed,
  OrderConflict,
  OrderNotFound,
  OrdersApiError,
} from './errors.js'
export { DEMO_CUSTOMERS, demoOrders } from './orders/demo-orders.js'
export { createMemoryOrderStore, type MemoryOrderStoreOptions } from './orders/memory-store.js'
export { ORDER_STATUSES, type Order, type OrderItem, type OrderStatus } from './orders/order.js'
export {
  customerIdOf,
  type OrderAction,
  type OrderOwner,
  orderPolicy,
} from './orders/order-policy.js'
export { type AdminOrderView, type CustomerOrderView, viewOrder } from './orders/order-view.js'
export type { NewOrder, OrderChange, OrderStore } from './orders/store.js'
