import cluster from 'node:cluster'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pino, { type Logger } from 'pino'
import { AggregatorRegistry } from 'prom-client'
import type { GatewayConfig } from './config/load.js'
import { createGateway, type Gateway } from './create-gateway.js'
import { ConfigError } from './errors.js'
import { createGatewayMetrics } from './metrics.js'
import { reloadOnSignal } from './reload-on-signal.js'
import { createWorkerState, serveClusterState } from './state/cluster-ipc.js'
import { createMemoryState } from './state/memory.js'
import type { GatewayState } from './state/types.js'

export interface GatewayClusterOptions {
  /** Worker processes. The CLI's default is the number of cores. */
  readonly workers: number
  /** Loads and validates the configuration (called in the primary first, then in each worker). */
  readonly loadConfig: () => GatewayConfig
  readonly logger?: Logger
}

export type GatewayClusterHandle =
  | {
      readonly role: 'primary'
      readonly adminUrl: string | undefined
      /** The primary-owned state: an embedded authorization server publishes revocations here. */
      readonly state: GatewayState
      close(): Promise<void>
    }
  | { readonly role: 'worker'; readonly gateway: Gateway; close(): Promise<void> }

/**
 * `gatehouse serve gateway --workers N`: the primary validates the configuration, owns the shared
 * state (rate limits stay exact across workers), restarts workers that die, passes SIGHUP on to
 * them, and serves the workers' metrics, aggregated, on the admin port. Each worker runs a gateway
 * on the shared listening socket. Call it at the top of the entry module in both roles.
 */
export async function startGatewayCluster(
  options: GatewayClusterOptions,
): Promise<GatewayClusterHandle> {
  const logger = options.logger ?? pino({ name: 'gatehouse-gateway' })
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new TypeError('workers must be ≥ 1')

  if (cluster.isWorker) {
    const config = options.loadConfig()
    const metrics = createGatewayMetrics()
    // Constructing one installs prom-client's worker-side answer to the primary's metrics requests.
    new AggregatorRegistry()
    AggregatorRegistry.setRegistries([metrics.registry])
    const state = createWorkerState({ maxPhantomEntries: config.settings.phantomCache.maxEntries })
    const gateway = createGateway(config, { logger, state, metrics, adminListener: false })
    const address = await gateway.listen()
    const stopReload = reloadOnSignal(gateway, options.loadConfig, logger)
    process.send?.({ gatehouse: 'listening', url: address.url })
    return {
      role: 'worker',
      gateway,
      async close() {
        stopReload()
        await gateway.close()
        await state.close()
      },
    }
  }

  const config = options.loadConfig() // refuse a bad configuration before forking anything
  const state = createMemoryState({ maxPhantomEntries: config.settings.phantomCache.maxEntries })
  const stopServing = serveClusterState(state)
  let stopping = false
  const fork = () => cluster.fork()
  // A worker that keeps dying (a port taken, a broken upstream CA) must not become a fork loop.
  const recentExits: number[] = []
  cluster.on('exit', function replaceWorker(worker, code, signal) {
    if (stopping) return
    const now = Date.now()
    recentExits.push(now)
    while ((recentExits[0] ?? now) < now - 60_000) recentExits.shift()
    if (recentExits.length > options.workers * 5) {
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
    fork()
  })
  const listening = new Promise<string>((resolve) => {
    let count = 0
    cluster.on(
      'message',
      function countListening(_worker, message: { gatehouse?: string; url?: string }) {
        if (message?.gatehouse !== 'listening') return
        count++
        if (count === options.workers) resolve(message.url ?? '')
      },
    )
  })
  for (let i = 0; i < options.workers; i++) fork()
  const onHangUp = () => {
    try {
      options.loadConfig()
    } catch (error) {
      const issues = error instanceof ConfigError ? error.issues : [String(error)]
      logger.error(
        { issues },
        'configuration reload refused; workers keep the running configuration',
      )
      return
    }
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP')
  }
  process.on('SIGHUP', onHangUp)

  let admin: http.Server | undefined
  let adminUrl: string | undefined
  const adminSettings = config.settings.admin
  if (adminSettings !== undefined) {
    const aggregator = new AggregatorRegistry()
    const server = http.createServer(function serveClusterMetrics(req, res) {
      if (req.method === 'GET' && req.url === '/metrics') {
        aggregator.clusterMetrics().then(
          (text) => res.writeHead(200, { 'content-type': aggregator.contentType }).end(text),
          () => res.writeHead(503).end(),
        )
        return
      }
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
        return
      }
      res.writeHead(404).end()
    })
    admin = server
    await new Promise<void>((resolve) =>
      server.listen(adminSettings.port, adminSettings.host, resolve),
    )
    adminUrl = `http://${adminSettings.host}:${(server.address() as AddressInfo).port}`
  }
  const url = await listening
  logger.info({ workers: options.workers, url, adminUrl }, 'gateway cluster listening')
  return {
    role: 'primary',
    adminUrl,
    state,
    async close() {
      stopping = true
      process.off('SIGHUP', onHangUp)
      stopServing()
      await new Promise<void>((resolve) =>
        admin === undefined ? resolve() : admin.close(() => resolve()),
      )
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
