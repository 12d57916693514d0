import http from 'node:http'
import type https from 'node:https'
import type { AddressInfo } from 'node:net'
import { type AuditBus, createAuditBus } from '@gatehouse/audit'
import pino, { type Logger } from 'pino'
import { createAbuseDetectors } from './abuse/detectors.js'
import { type CompiledGateway, compileRoutes } from './config/compile-routes.js'
import type { GatewayConfig } from './config/load.js'
import { createHttpsServer } from './http/https-server.js'
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js'
import { createBlockListGuard, createTemporaryBlocks } from './pipeline/block-list.js'
import { createClientIpResolver } from './pipeline/client-ip.js'
import { createObserver, type RequestListener } from './pipeline/observe.js'
import { handle, type Pipeline } from './pipeline/run.js'
import { createMemoryState } from './state/memory.js'
import type { GatewayState } from './state/types.js'

export interface GatewayDeps {
  /** pino logger for the access log and warnings. Default: pino to stdout. */
  readonly logger?: Logger
  /** The platform's audit bus. Default: a new in-process bus. */
  readonly audit?: AuditBus
  /** Shared state (rate limits, phantom cache, revocations, split tokens). Default: in-process. */
  readonly state?: GatewayState
  readonly metrics?: GatewayMetrics
  /** Extra observers of every finished request (abuse detectors, tests). */
  readonly requestListeners?: readonly RequestListener[]
  /** Serve `admin` (metrics) from this gateway. Cluster workers say no: the primary aggregates. */
  readonly adminListener?: boolean
  readonly now?: () => number
}

export interface GatewayAddress {
  /** https://host:port of the public listener. */
  readonly url: string
  /** http://host:port of the admin listener (metrics), when configured. */
  readonly adminUrl: string | undefined
}

export interface Gateway {
  listen(): Promise<GatewayAddress>
  /** Stops accepting, lets requests in flight finish, releases pools. */
  close(): Promise<void>
  /** Swaps in a new configuration without dropping connections (SIGHUP). Listen addresses need a restart. */
  reload(config: GatewayConfig): Promise<void>
  readonly metrics: GatewayMetrics
  readonly audit: AuditBus
  readonly state: GatewayState
}

/**
 * Builds a gateway from a loaded configuration. Nothing listens until `listen()`; the route
 * table is compiled then (it needs the public URL for resource metadata) and on every `reload()`.
 */
export function createGateway(initial: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? pino({ name: 'gatehouse-gateway' })
  const audit = deps.audit ?? createAuditBus()
  const state =
    deps.state ??
    createMemoryState({
      maxPhantomEntries: initial.settings.phantomCache.maxEntries,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    })
  const metrics = deps.metrics ?? createGatewayMetrics()
  const unsubscribeRevocations = state.revocations.subscribe(function evictRevoked(revocation) {
    state.phantomCache.evict(revocation).catch((error: unknown) => {
      logger.error({ err: error }, 'phantom cache eviction failed')
    })
  })
  // Sampled, so every process (cluster workers included) reports its own cache for aggregation.
  const sampleCacheSize = () => metrics.phantomCacheEntries.set(state.phantomCache.size)
  const cacheSampler = setInterval(sampleCacheSize, 5_000).unref()
  const temporaryBlocks = createTemporaryBlocks(deps.now)
  let config = initial
  let current: { pipe: Pipeline; compiled: CompiledGateway } | undefined
  let publicUrl = ''

  function build(next: GatewayConfig): { pipe: Pipeline; compiled: CompiledGateway } {
    const { settings } = next
    const compiled = compileRoutes(next, {
      state,
      metrics,
      audit,
      publicUrl,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    })
    const pipe: Pipeline = {
      table: compiled.table,
      clientIp: createClientIpResolver(settings.trustedProxies),
      blockList: createBlockListGuard(settings.blockList, temporaryBlocks),
      onObserveError: (error) => logger.error({ err: error }, 'observing a request failed'),
      observe: createObserver({
        logger,
        metrics,
        audit,
        listeners: [
          ...createAbuseDetectors(settings.abuse, {
            logger,
            metrics,
            audit,
            blocks: temporaryBlocks,
            ...(deps.now === undefined ? {} : { now: deps.now }),
          }),
          ...(deps.requestListeners ?? []),
        ],
      }),
    }
    return { pipe, compiled }
  }

  const server: https.Server = createHttpsServer(
    initial.settings.listen,
    {
      cert: initial.secret(initial.settings.listen.tls.cert),
      key: initial.secret(initial.settings.listen.tls.key),
    },
    function onRequest(req, res) {
      if (current === undefined) {
        res.writeHead(503, { connection: 'close' }).end()
        return
      }
      void handle(current.pipe, req, res)
    },
    function onClientError(status, code) {
      metrics.requests.inc({ route: 'none', status, client: '' })
      logger.warn({ status, reason: `http.${code}` }, 'malformed request refused')
    },
  )
  let admin: http.Server | undefined

  return {
    metrics,
    audit,
    state,
    async listen() {
      const { listen, admin: adminSettings } = config.settings
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(listen.port, listen.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const port = (server.address() as AddressInfo).port
      publicUrl =
        listen.publicUrl?.replace(/\/$/, '') ?? `https://${hostForUrl(listen.host)}:${port}`
      current = build(config)
      let adminUrl: string | undefined
      if (adminSettings !== undefined && deps.adminListener !== false) {
        const adminServer = http.createServer(function serveAdmin(req, res) {
          if (req.method === 'GET' && req.url === '/metrics') {
            sampleCacheSize()
            metrics.registry.metrics().then(
              (text) =>
                res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
              () => res.writeHead(500).end(),
            )
            return
          }
          if (req.method === 'GET' && req.url === '/healthz') {
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
            return
          }
          res.writeHead(404).end()
        })
        admin = adminServer
        await new Promise<void>((resolve) =>
          adminServer.listen(adminSettings.port, adminSettings.host, resolve),
        )
        adminUrl = `http://${hostForUrl(adminSettings.host)}:${(adminServer.address() as AddressInfo).port}`
      }
      return { url: `https://${hostForUrl(listen.host)}:${port}`, adminUrl }
    },
    async reload(next) {
      const previous = current
      if (previous === undefined) {
        // Not listening yet: the table is compiled by listen().
        config = next
        return
      }
      const built = build(next)
      const tls = next.settings.listen.tls
      try {
        server.setSecureContext({
          cert: next.secret(tls.cert),
          key: next.secret(tls.key),
          minVersion: tls.minVersion,
        })
      } catch (error) {
        // A certificate that does not load leaves everything as it was.
        await built.compiled.close()
        throw error
      }
      current = built
      config = next
      logger.info({ routes: next.settings.routes.length }, 'configuration reloaded')
      // Requests in flight keep the pools they started on; release them once those are done.
      const release = () =>
        previous.compiled.close().catch((error: unknown) => {
          logger.error({ err: error }, 'releasing the previous upstream pools failed')
        })
      setTimeout(release, next.settings.listen.limits.requestTimeoutMs).unref()
    },
    async close() {
      clearInterval(cacheSampler)
      unsubscribeRevocations()
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        }),
        new Promise<void>((resolve) =>
          admin === undefined ? resolve() : admin.close(() => resolve()),
        ),
      ])
      await current?.compiled.close()
    },
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
