import { readFileSync } from 'node:fs'
import {
  ConfigError,
  createTokenHandler,
  resolveTokenHandlerSecrets,
} from '@gatehouse/token-handler'
import type { Logger } from 'pino'
import type { LoadedGatehouseConfig } from '../config/load.js'
import { listenHttps } from '../dev-stack/listen.js'
import type { RunningComponent } from './authorization-server.js'
import { RuntimeConfigError } from './errors.js'
import { type ListenOptions, readTlsFiles } from './listen.js'
import { resolveSecretRef, type SecretContext } from './secrets.js'

export const TOKEN_HANDLER_PORT = 8445

/**
 * `gatehouse serve token-handler`: the SPA's backend for frontend over HTTPS. `ca` names PEM
 * certificates the authorization server's certificate chains to, when not a public CA.
 */
export async function startTokenHandlerRuntime(
  loaded: LoadedGatehouseConfig,
  context: SecretContext,
  listen: ListenOptions & { readonly ca?: string },
  logger: Logger,
): Promise<RunningComponent> {
  const config = loaded.settings.tokenHandler
  if (config === undefined) {
    throw new RuntimeConfigError('tokenHandler', 'is missing from the configuration')
  }
  let secrets: Awaited<ReturnType<typeof resolveTokenHandlerSecrets>>
  try {
    secrets = await resolveTokenHandlerSecrets(config, {
      env: context.env,
      readFile: (file) => resolveSecretRef({ file }, 'tokenHandler', context),
    })
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new RuntimeConfigError('tokenHandler', error.message)
    }
    throw error
  }
  const tls = readTlsFiles(listen)
  let ca: string | undefined
  if (listen.ca !== undefined) {
    try {
      ca = readFileSync(listen.ca, 'utf8')
    } catch (error) {
      throw new RuntimeConfigError(
        '--ca',
        `cannot read ${listen.ca} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      )
    }
  }
  const tokenHandler = createTokenHandler(config, {
    secrets,
    ...(ca === undefined ? {} : { ca }),
    onOutcome: (outcome) =>
      logger.info(
        { route: outcome.route, status: outcome.status, reason: outcome.reason },
        'refused',
      ),
  })
  try {
    const host = listen.host ?? '127.0.0.1'
    const listening = await listenHttps(
      tokenHandler.handler,
      tls,
      listen.port ?? TOKEN_HANDLER_PORT,
      host,
    )
    const url = `https://${host}:${listening.port}`
    logger.info({ url }, 'token handler listening')
    return {
      url,
      async close() {
        await listening.close()
        await tokenHandler.close()
      },
    }
  } catch (error) {
    await tokenHandler.close()
    throw error
  }
}
