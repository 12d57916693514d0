import {
  type AuthorizationServerStore,
  ConfigError,
  createAuthorizationServer,
  createClient,
  resolveSecrets,
  tokenHash,
} from '@gatehouse/authorization-server'
import type { Logger } from 'pino'
import type { LoadedGatehouseConfig } from '../config/load.js'
import { listenHttps } from '../dev-stack/listen.js'
import { RuntimeConfigError } from './errors.js'
import { type ListenOptions, readTlsFiles } from './listen.js'
import { resolveSecretRef, type SecretContext } from './secrets.js'
import { describeState, openAuthorizationServerState, resolveState } from './state.js'
import { describeStore, openStore, resolveStore } from './store.js'

export interface RunningComponent {
  readonly url: string
  close(): Promise<void>
}

/** Default port of `gatehouse serve authorization-server` (the dev stack's too). */
export const AUTHORIZATION_SERVER_PORT = 8443

/**
 * `gatehouse serve authorization-server`: the store from `store`, revocations and split-token
 * entries to Redis when `state` is `redis`, the declared `clients` registered, HTTPS on
 * `--host`/`--port` with `--tls-cert`/`--tls-key`.
 */
/**
 * The authorization server's secrets (the key-encryption key) from the root configuration: an
 * `{ env }` reference from the environment, a `{ file }` reference relative to the configuration
 * file. A bad reference is a configuration error naming its key path (exit status 2).
 */
export function resolveAuthorizationServerSecrets(
  config: Parameters<typeof resolveSecrets>[0],
  context: SecretContext,
): ReturnType<typeof resolveSecrets> {
  try {
    return resolveSecrets(config, {
      env: context.env,
      readFile: (file) =>
        resolveSecretRef({ file }, 'authorizationServer.keys.encryptionKey', context),
    })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw new RuntimeConfigError(
      `authorizationServer.${error.key}`,
      error.message.replace(`${error.key}: `, ''),
    )
  }
}

export async function startAuthorizationServerRuntime(
  loaded: LoadedGatehouseConfig,
  context: SecretContext,
  listen: ListenOptions,
  logger: Logger,
): Promise<RunningComponent> {
  const config = loaded.settings.authorizationServer
  if (config === undefined || loaded.settings.store === undefined) {
    throw new RuntimeConfigError('authorizationServer', 'is missing from the configuration')
  }
  const secrets = resolveAuthorizationServerSecrets(config, context)
  const tls = readTlsFiles(listen)
  const storeSettings = resolveStore(loaded.settings.store, context)
  const stateSettings = resolveState(loaded.settings.state, context)
  const clientSecrets = declaredClientSecrets(loaded, context)
  const onError = (error: unknown) =>
    logger.error(
      {
        err: error instanceof Error ? { type: error.name, message: error.message } : String(error),
      },
      'internal error',
    )
  const closers: (() => Promise<void>)[] = []
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(onError)
  }
  try {
    const store = await openStore(storeSettings, { onError })
    closers.push(() => store.close())
    const shared = await openAuthorizationServerState(stateSettings, onError)
    closers.push(() => shared.close())
    await registerDeclaredClients(store, loaded, clientSecrets)
    const server = await createAuthorizationServer(config, {
      store,
      secrets,
      onError,
      logger,
      ...(shared.revocations === undefined ? {} : { revocations: shared.revocations }),
      ...(shared.splitTokens === undefined ? {} : { splitTokens: shared.splitTokens }),
    })
    closers.push(() => server.close())
    const listening = await listenHttps(
      server.handler,
      tls,
      listen.port ?? AUTHORIZATION_SERVER_PORT,
      listen.host ?? '127.0.0.1',
    )
    closers.push(listening.close)
    const url = `https://${listen.host ?? '127.0.0.1'}:${listening.port}`
    logger.info(
      {
        url,
        issuer: config.issuer,
        store: describeStore(storeSettings),
        state: describeState(stateSettings),
      },
      'authorization server listening',
    )
    return { url, close: closeAll }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/** Every declared client's secret, resolved before anything starts (a missing one is exit 2). */
function declaredClientSecrets(
  loaded: LoadedGatehouseConfig,
  context: SecretContext,
): Map<string, string> {
  const secrets = new Map<string, string>()
  loaded.settings.clients.forEach((client, index) => {
    if (client.clientSecret === undefined) return
    secrets.set(
      client.clientId,
      typeof client.clientSecret === 'string'
        ? client.clientSecret
        : resolveSecretRef(client.clientSecret, `clients[${index}].clientSecret`, context),
    )
  })
  return secrets
}

/**
 * Registers each declared client that the store does not have yet, and sets every declared
 * secret (the configuration is the source of truth for them; only their hash is stored).
 * Registrations already in the store are otherwise left as they are: change them with the admin API.
 */
async function registerDeclaredClients(
  store: AuthorizationServerStore,
  loaded: LoadedGatehouseConfig,
  secrets: ReadonlyMap<string, string>,
): Promise<void> {
  for (const declared of loaded.settings.clients) {
    const { clientSecret: _secret, ...input } = declared
    if ((await store.getClient(declared.clientId)) === null) {
      await createClient(store, input)
    }
    const secret = secrets.get(declared.clientId)
    const client = await store.getClient(declared.clientId)
    if (secret === undefined || client === null) continue
    const secretHash = tokenHash(secret)
    if (client.secretHash !== secretHash) await store.updateClient({ ...client, secretHash })
  }
}
