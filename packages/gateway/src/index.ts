export {
  type GatewayClusterHandle,
  type GatewayClusterOptions,
  startGatewayCluster,
} from './cluster.js'
export { type CompiledGateway, compileRoutes, metadataPath } from './config/compile-routes.js'
export {
  formatPath,
  type GatewayConfig,
  type LoadOptions,
  loadGatewayConfig,
} from './config/load.js'
export {
  type GatewayConfigInput,
  type GatewayConfigParsed,
  GatewayConfigSchema,
} from './config/schema.js'
export {
  createGateway,
  type Gateway,
  type GatewayAddress,
  type GatewayDeps,
} from './create-gateway.js'
export * from './errors.js'
export { createLogDestination, type LogDestinationOptions } from './log-destination.js'
export { createGatewayMetrics, type GatewayMetrics } from './metrics.js'
export { reloadOnSignal } from './reload-on-signal.js'
export { createWorkerState, serveClusterState } from './state/cluster-ipc.js'
export { createMemoryState } from './state/memory.js'
export {
  createRedisState,
  type RedisGatewayState,
  type RedisStateAlert,
  type RedisStateOptions,
  type SharedSlidingWindows,
} from './state/redis.js'
export { connectRevocationSource, type RevocationSource } from './state/revocation-source.js'
export type * from './state/types.js'
