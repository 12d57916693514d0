export {
  FIXED_PORTS,
  type RunningStack,
  type StartOptions,
  startDevStack,
} from './commands/start.js'
