import { rename, writeFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { clientKeyFile } from './authorization-server.js'
import { DEMO_CLIENTS, DEMO_USERS } from './demo.js'
import type { DevRoute } from './gateway-config.js'
import type { DevWorkspace } from './workspace.js'

/**
 * `.gatehouse/dev.json`: what `gatehouse start` runs, for other tooling (tests, scripts, the
 * SPA's e2e). Its shape is a contract (issue #6): change it only together with its readers.
 */
export interface DevJson {
  readonly issuer: string
  readonly gatewayUrl: string
  readonly tokenHandlerUrl: string
  readonly spaUrl: string
  readonly metricsUrl: string
  readonly caCertFile: string
  readonly clients: readonly DevJsonClient[]
  readonly users: readonly DevJsonUser[]
  readonly routes: readonly DevJsonRoute[]
}

export interface DevJsonClient {
  readonly client_id: string
  readonly client_secret: string | null
  readonly token_endpoint_auth_method: string
  readonly token_format: 'opaque' | 'jwt' | 'split'
  readonly grant_types: readonly string[]
  readonly scope: string
  readonly redirect_uris: readonly string[]
  readonly private_key_file: string | null
  readonly purpose: string
}

export interface DevJsonUser {
  readonly username: string
  readonly password: string
  readonly totp_secret: string | null
  readonly claims: Readonly<Record<string, string>>
}

export interface DevJsonRoute {
  readonly name: string
  readonly url: string
  readonly method: string
  readonly auth: DevRoute['auth']
  readonly scope: string
  readonly audience: string
}

export interface DevJsonInput {
  readonly workspace: DevWorkspace
  readonly issuer: string
  readonly gatewayUrl: string
  readonly tokenHandlerUrl: string
  readonly spaUrl: string
  readonly metricsUrl: string
  readonly caCertFile: string
  readonly routes: readonly DevRoute[]
  /** Redirect URIs registered at this start, by client id (they follow the ports). */
  readonly redirectUris: Readonly<Record<string, readonly string[]>>
  readonly cwd?: string
}

export function buildDevJson(input: DevJsonInput): DevJson {
  const cwd = input.cwd ?? process.cwd()
  const { secrets } = input.workspace
  return {
    issuer: input.issuer,
    gatewayUrl: input.gatewayUrl,
    tokenHandlerUrl: input.tokenHandlerUrl,
    spaUrl: input.spaUrl,
    metricsUrl: input.metricsUrl,
    caCertFile: relative(cwd, input.caCertFile),
    clients: DEMO_CLIENTS.map((client) => ({
      client_id: client.clientId,
      client_secret: secrets.clientSecrets[client.clientId] ?? null,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      token_format: client.tokenFormat,
      grant_types: [...client.grantTypes],
      scope: client.scopes.join(' '),
      redirect_uris: [...(input.redirectUris[client.clientId] ?? client.redirectUris ?? [])],
      private_key_file:
        client.tokenEndpointAuthMethod === 'private_key_jwt'
          ? relative(cwd, clientKeyFile(input.workspace, client.clientId))
          : null,
      purpose: client.purpose,
    })),
    users: DEMO_USERS.map((user) => ({
      username: user.username,
      password: secrets.userPasswords[user.username] ?? '',
      totp_secret: secrets.totpSecrets[user.username] ?? null,
      claims: { ...user.claims },
    })),
    routes: input.routes.map((route) => ({
      name: route.name,
      url: `${input.gatewayUrl}${route.path}`,
      method: route.method,
      auth: route.auth,
      scope: route.scope,
      audience: route.audience,
    })),
  }
}

/** Written atomically (temp file + rename), mode 0600: it holds the demo secrets. */
export async function writeDevJson(file: string, devJson: DevJson): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(devJson, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, file)
}
