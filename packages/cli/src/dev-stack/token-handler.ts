import type { AuthorizationServerStore } from '@gatehouse/authorization-server'
import {
  createTokenHandler,
  parseTokenHandlerConfig,
  resolveTokenHandlerSecrets,
  type TokenHandler,
  type TokenHandlerConfig,
} from '@gatehouse/token-handler'
import { ORDERS_AUDIENCE } from './demo.js'
import type { DevWorkspace } from './workspace.js'

export const TOKEN_HANDLER_CLIENT_ID = 'gatehouse-token-handler'
/** Where the SPA's API calls go through the gateway with the access-token cookie. */
export const SPA_API_PATH = '/spa/api'

export interface DevTokenHandler {
  readonly tokenHandler: TokenHandler
  readonly config: TokenHandlerConfig
  readonly cookieKey: string
}

/**
 * The token handler of the dev stack: a confidential client of the authorization server for the
 * example SPA, with its redirect URIs following this start's ports (they are re-registered at
 * every start, since `--ports free` changes them).
 */
export async function startDevTokenHandler(options: {
  readonly workspace: DevWorkspace
  readonly store: AuthorizationServerStore
  readonly issuer: string
  readonly spaUrl: string
  readonly ca: string
  readonly onOutcome: (outcome: {
    route: string
    status: number
    reason: string
    error?: unknown
  }) => void
}): Promise<DevTokenHandler> {
  const redirectUri = `${options.spaUrl}/callback`
  const client = await options.store.getClient(TOKEN_HANDLER_CLIENT_ID)
  if (client === null)
    throw new Error(`the ${TOKEN_HANDLER_CLIENT_ID} client is missing from the store`)
  await options.store.updateClient({
    ...client,
    redirectUris: [redirectUri],
    postLogoutRedirectUris: [`${options.spaUrl}/`],
  })
  const config = parseTokenHandlerConfig({
    authorizationServer: { issuer: options.issuer },
    client: {
      id: TOKEN_HANDLER_CLIENT_ID,
      authentication: {
        method: 'client_secret_basic',
        secret: { env: 'GATEHOUSE_TOKEN_HANDLER_SECRET' },
      },
    },
    redirectUri,
    postLogoutRedirectUri: `${options.spaUrl}/`,
    scope: 'openid profile offline_access orders:read orders:write',
    authorizationParameters: { resource: ORDERS_AUDIENCE },
    allowedOrigins: [options.spaUrl],
    cookies: {
      apiPath: SPA_API_PATH,
      keys: [{ id: 'dev-1', key: { env: 'GATEHOUSE_COOKIE_KEY' } }],
      currentKeyId: 'dev-1',
    },
  })
  const secrets = await resolveTokenHandlerSecrets(config, {
    env: {
      GATEHOUSE_TOKEN_HANDLER_SECRET:
        options.workspace.secrets.clientSecrets[TOKEN_HANDLER_CLIENT_ID],
      GATEHOUSE_COOKIE_KEY: options.workspace.secrets.cookieKey,
    },
  })
  const tokenHandler = createTokenHandler(config, {
    secrets,
    ca: options.ca,
    onOutcome: options.onOutcome,
  })
  return { tokenHandler, config, cookieKey: options.workspace.secrets.cookieKey }
}
