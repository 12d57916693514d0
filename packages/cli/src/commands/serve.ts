import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { createLogDestination } from '@gatehouse/gateway'
import pino from 'pino'
import { loadGatehouseConfig } from '../config/load.js'
import { startAuthorizationServerRuntime } from '../runtime/authorization-server.js'
import { secretContextFor } from '../runtime/context.js'
import { exitTwoOnConfigError, RuntimeConfigError } from '../runtime/errors.js'
import { startGatewayProcesses } from '../runtime/gateway-cluster.js'
import { startTokenHandlerRuntime } from '../runtime/token-handler.js'

export const SERVE_USAGE = `  gatehouse serve <authorization-server|gateway|token-handler> --config gatehouse.yaml
        [--host 127.0.0.1] [--port N] [--tls-cert file --tls-key file] [--workers N] [--ca file]
        [--log-buffer bytes]
      Run one component from the root configuration: the store from \`store\` (sqlite or
      postgres), shared state from \`state\` (memory or redis), secrets from the environment.
      --workers (gateway): worker processes, default the number of cores. --ca (token handler):
      PEM file the authorization server's certificate chains to. SIGHUP reloads the gateway.
      --log-buffer: JSON log lines on stdout are written in batches of up to this many bytes,
      at least every 250 ms and at exit (default 3072; 0 writes each line at once).
`

const COMPONENTS = ['authorization-server', 'gateway', 'token-handler'] as const
type Component = (typeof COMPONENTS)[number]

/** `gatehouse serve`: exit status 2 for a configuration problem; otherwise runs until a signal. */
export function serveCommand(args: string[], stderr: NodeJS.WritableStream): Promise<number> {
  return exitTwoOnConfigError(async () => {
    await runServe(args)
    return 0
  }, stderr)
}

/** The running component, stopped on SIGINT/SIGTERM. Configuration problems: RuntimeConfigError. */
export async function runServe(args: string[]): Promise<{ close(): Promise<void> }> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      workers: { type: 'string' },
      ca: { type: 'string' },
      'log-buffer': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  })
  const component = positionals[0] as Component | undefined
  if (component === undefined || !COMPONENTS.includes(component) || positionals.length > 1) {
    throw new RuntimeConfigError('serve', `name one component: ${COMPONENTS.join(', ')}`)
  }
  if (values.config === undefined) throw new RuntimeConfigError('--config', 'is required')
  const port = values.port === undefined ? undefined : parseCount(values.port, '--port', 0, 65_535)
  const workers =
    values.workers === undefined
      ? availableParallelism()
      : parseCount(values.workers, '--workers', 1, 256)
  if (values.workers !== undefined && component !== 'gateway') {
    throw new RuntimeConfigError('--workers', 'only the gateway runs worker processes')
  }
  const listen = {
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(port === undefined ? {} : { port }),
    ...(values['tls-cert'] === undefined ? {} : { tlsCert: values['tls-cert'] }),
    ...(values['tls-key'] === undefined ? {} : { tlsKey: values['tls-key'] }),
  }
  const context = secretContextFor(values.config)
  const bufferBytes =
    values['log-buffer'] === undefined
      ? undefined
      : parseCount(values['log-buffer'], '--log-buffer', 0, 4_095)
  const logger = pino(
    { base: { component } },
    createLogDestination(bufferBytes === undefined ? {} : { bufferBytes }),
  )
  let running: { close(): Promise<void> }
  if (component === 'gateway') {
    running = await startGatewayProcesses(values.config, context, listen, logger, workers)
  } else {
    const loaded = await loadGatehouseConfig(values.config)
    running =
      component === 'authorization-server'
        ? await startAuthorizationServerRuntime(loaded, context, listen, logger)
        : await startTokenHandlerRuntime(
            loaded,
            context,
            { ...listen, ...(values.ca === undefined ? {} : { ca: values.ca }) },
            logger,
          )
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  if (cluster.isWorker) {
    // Ctrl-C reaches the whole process group: a worker leaves stopping to the primary (which
    // sends SIGTERM), or the primary would see it exit and start a replacement.
    process.on('SIGINT', () => undefined)
  } else {
    process.on('SIGINT', () => stop('SIGINT'))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  return running
}

function parseCount(value: string, option: string, min: number, max: number): number {
  const number = Number(value)
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new RuntimeConfigError(option, `must be a whole number from ${min} to ${max}`)
  }
  return number
}
