export { AUDIT_USAGE, runAudit } from './commands/audit.js'
export { runServe } from './commands/serve.js'
export {
  FIXED_PORTS,
  type RunningStack,
  type StartOptions,
  startDevStack,
} from './commands/start.js'
export {
  GatehouseConfigError,
  type LoadedGatehouseConfig,
  loadGatehouseConfig,
  parseGatehouseConfig,
} from './config/load.js'
export {
  type GatehouseConfig,
  type GatehouseConfigInput,
  GatehouseConfigSchema,
} from './config/schema.js'
export { type DistributedStartOptions, startDistributedDevStack } from './dev-stack/distributed.js'
