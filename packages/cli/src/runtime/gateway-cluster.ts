import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { startGatewayCluster } from '@gatehouse/gateway'
import type { Logger } from 'pino'
import { parseGatehouseConfig } from '../config/load.js'
import { gatewayConfigLoader, startGatewayRuntime } from './gateway.js'
import type { ListenOptions } from './listen.js'
import type { SecretContext } from './secrets.js'
import { resolveState } from './state.js'

export interface GatewayProcesses {
  readonly role: 'single' | 'primary' | 'worker'
  /** The listening URL (in the primary: once every worker listens). */
  readonly url: string
  close(): Promise<void>
}

/**
 * `gatehouse serve gateway --workers N`. One worker: the gateway runs in this process. More,
 * with `state: memory`: `startGatewayCluster`, whose primary owns the state over IPC so rate
 * limits stay exact. More, with `state: redis`: every worker talks to Redis itself (the state is
 * shared there), the primary only forks, restarts and passes SIGHUP on. Metrics in that last
 * layout are per worker (no admin listener): scrape them with `--workers 1` per process.
 * Called in both roles: a worker re-runs the same command line.
 */
export async function startGatewayProcesses(
  file: string,
  context: SecretContext,
  listen: ListenOptions,
  logger: Logger,
  workers: number,
): Promise<GatewayProcesses> {
  if (workers === 1 && cluster.isPrimary) {
    const gateway = await startGatewayRuntime(file, context, listen, logger)
    return { role: 'single', url: gateway.url, close: () => gateway.close() }
  }
  const loadConfig = gatewayConfigLoader(file, context, listen)
  const state = resolveState(
    parseGatehouseConfig(file, readFileSync(file, 'utf8')).settings.state,
    context,
  )
  if (state.driver === 'memory') {
    const handle = await startGatewayCluster({ workers, loadConfig, logger })
    if (handle.role === 'worker') return { role: 'worker', url: '', close: () => handle.close() }
    return {
      role: 'primary',
      url: listenedUrl(loadConfig().settings.listen),
      close: () => handle.close(),
    }
  }
  if (cluster.isWorker) {
    const gateway = await startGatewayRuntime(file, context, listen, logger, {
      adminListener: false,
      onListening: (url) => process.send?.({ gatehouse: 'listening', url }),
    })
    return { role: 'worker', url: gateway.url, close: () => gateway.close() }
  }
  return startRedisWorkers(loadConfig, logger, workers)
}

function listenedUrl(listen: { readonly host: string; readonly port: number }): string {
  return `https://${listen.host}:${listen.port}`
}

/** The primary of the Redis layout: validate, fork, replace dead workers, pass SIGHUP on. */
async function startRedisWorkers(
  loadConfig: ReturnType<typeof gatewayConfigLoader>,
  logger: Logger,
  workers: number,
): Promise<GatewayProcesses> {
  loadConfig() // refuse a bad configuration before forking anything
  let stopping = false
  const recentExits: number[] = []
  cluster.on('exit', function replaceWorker(worker, code, signal) {
    if (stopping) return
    const now = Date.now()
    recentExits.push(now)
    while ((recentExits[0] ?? now) < now - 60_000) recentExits.shift()
    if (recentExits.length > workers * 5) {
      logger.error(
        { exits: recentExits.length },
        'gateway workers keep exiting; not restarting them',
      )
      return
    }
    logger.error(
      { pid: worker.process.pid, code, signal },
      'gateway worker exited; starting another',
    )
    cluster.fork()
  })
  const url = await new Promise<string>((resolve) => {
    let count = 0
    cluster.on(
      'message',
      function countListening(_worker, message: { gatehouse?: string; url?: string }) {
        if (message?.gatehouse !== 'listening') return
        count++
        if (count === workers) resolve(message.url ?? '')
      },
    )
    for (let i = 0; i < workers; i++) cluster.fork()
  })
  const onHangUp = () => {
    try {
      loadConfig()
    } catch (error) {
      logger.error(
        { problem: error instanceof Error ? error.message : String(error) },
        'configuration reload refused; workers keep the running configuration',
      )
      return
    }
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP')
  }
  process.on('SIGHUP', onHangUp)
  logger.info({ workers, url }, 'gateway workers listening (state in Redis)')
  return {
    role: 'primary',
    url,
    async close() {
      stopping = true
      process.off('SIGHUP', onHangUp)
      await Promise.all(
        Object.values(cluster.workers ?? {}).map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker === undefined || worker.isDead()) return resolve()
              worker.once('exit', () => resolve())
              worker.kill('SIGTERM')
            }),
        ),
      )
    },
  }
}
