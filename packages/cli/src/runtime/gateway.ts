import { readFileSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import {
  ConfigError,
  createGateway,
  createGatewayMetrics,
  type GatewayConfig,
  loadGatewayConfig,
  reloadOnSignal,
} from '@gatehouse/gateway'
import type { Logger } from 'pino'
import { GatehouseConfigError, parseGatehouseConfig } from '../config/load.js'
import { RuntimeConfigError } from './errors.js'
import type { ListenOptions } from './listen.js'
import type { SecretContext } from './secrets.js'
import { describeState, openGatewayState, resolveState } from './state.js'

/**
 * Loads the gateway's section of the root configuration file, with `--host`, `--port`,
 * `--tls-cert` and `--tls-key` over its `listen`. Read afresh on every call (SIGHUP reloads),
 * synchronously, and validated whole: the root schema first, then the gateway's own loader
 * (secret references resolved from `context.env`, files relative to the configuration's folder).
 * Errors name their key path from the root (`gateway.routes[0].upstream`).
 */
export function gatewayConfigLoader(
  file: string,
  context: SecretContext,
  listen: ListenOptions,
): () => GatewayConfig {
  return function loadConfig() {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error'
      throw new GatehouseConfigError(file, [
        { keyPath: '(root)', message: `cannot read (${code})` },
      ])
    }
    const loaded = parseGatehouseConfig(file, text)
    const written = (loaded.input as { gateway?: Record<string, unknown> }).gateway
    if (loaded.settings.gateway === undefined || written === undefined) {
      throw new RuntimeConfigError('gateway', 'is missing from the configuration')
    }
    const writtenListen = (written.listen ?? {}) as Record<string, unknown>
    const tls = { ...((writtenListen.tls ?? {}) as Record<string, unknown>) }
    if (listen.tlsCert !== undefined) tls.cert = { file: resolvePath(listen.tlsCert) }
    if (listen.tlsKey !== undefined) tls.key = { file: resolvePath(listen.tlsKey) }
    const input = {
      ...written,
      listen: {
        ...writtenListen,
        ...(listen.host === undefined ? {} : { host: listen.host }),
        ...(listen.port === undefined ? {} : { port: listen.port }),
        tls,
      },
    }
    try {
      return loadGatewayConfig(input, { env: context.env, baseDir: context.baseDir })
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      throw new RuntimeConfigError(
        error.issues.map((issue) => {
          const at = issue.indexOf(': ')
          return at < 0
            ? { keyPath: 'gateway', message: issue }
            : { keyPath: `gateway.${issue.slice(0, at)}`, message: issue.slice(at + 2) }
        }),
      )
    }
  }
}

export interface RunningGateway {
  readonly url: string
  readonly adminUrl: string | undefined
  close(): Promise<void>
}

/**
 * One gateway process on the `state` of the configuration (memory, or Redis shared with every
 * other instance), reloading its configuration on SIGHUP.
 */
export async function startGatewayRuntime(
  file: string,
  context: SecretContext,
  listen: ListenOptions,
  logger: Logger,
  options: { readonly adminListener?: boolean; readonly onListening?: (url: string) => void } = {},
): Promise<RunningGateway> {
  const loadConfig = gatewayConfigLoader(file, context, listen)
  const config = loadConfig()
  const stateSettings = resolveState(
    parseGatehouseConfig(file, readFileSync(file, 'utf8')).settings.state,
    context,
  )
  const metrics = createGatewayMetrics()
  const state = await openGatewayState(stateSettings, {
    logger,
    maxPhantomEntries: config.settings.phantomCache.maxEntries,
    registry: metrics.registry,
  })
  try {
    const gateway = createGateway(config, {
      logger,
      state,
      metrics,
      ...(options.adminListener === undefined ? {} : { adminListener: options.adminListener }),
    })
    const address = await gateway.listen()
    const stopReload = reloadOnSignal(gateway, loadConfig, logger)
    logger.info(
      { url: address.url, adminUrl: address.adminUrl, state: describeState(stateSettings) },
      'gateway listening',
    )
    options.onListening?.(address.url)
    return {
      url: address.url,
      adminUrl: address.adminUrl,
      async close() {
        stopReload()
        await gateway.close()
        await state.close()
      },
    }
  } catch (error) {
    await state.close()
    throw error
  }
}
