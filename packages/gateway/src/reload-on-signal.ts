import type { Logger } from 'pino'
import type { GatewayConfig } from './config/load.js'
import type { Gateway } from './create-gateway.js'
import { ConfigError } from './errors.js'

/**
 * Reloads the configuration on SIGHUP without dropping connections: the new file is loaded and
 * validated first, and an invalid one is refused (logged with its key paths) while the running
 * configuration stays in force. Returns a function that removes the handler.
 */
export function reloadOnSignal(
  gateway: Gateway,
  loadConfig: () => GatewayConfig,
  logger: Logger,
  signal: NodeJS.Signals = 'SIGHUP',
): () => void {
  let reloading = Promise.resolve()
  const onSignal = () => {
    reloading = reloading.then(async () => {
      let next: GatewayConfig
      try {
        next = loadConfig()
      } catch (error) {
        const issues = error instanceof ConfigError ? error.issues : [String(error)]
        logger.error({ issues }, 'configuration reload refused; keeping the running configuration')
        return
      }
      try {
        await gateway.reload(next)
      } catch (error) {
        logger.error(
          { err: error },
          'configuration reload failed; keeping the running configuration',
        )
      }
    })
  }
  process.on(signal, onSignal)
  return () => {
    process.off(signal, onSignal)
  }
}
