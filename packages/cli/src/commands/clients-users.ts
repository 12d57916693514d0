import { parseArgs } from 'node:util'
import {
  type AuthorizationServerStore,
  createClient,
  createKeyEncryption,
  createUser,
  rotateClientSecret,
} from '@gatehouse/authorization-server'
import { loadGatehouseConfig } from '../config/load.js'
import { resolveAuthorizationServerSecrets } from '../runtime/authorization-server.js'
import { secretContextFor } from '../runtime/context.js'
import { exitTwoOnConfigError, RuntimeConfigError } from '../runtime/errors.js'
import { openStore, resolveStore } from '../runtime/store.js'

export const CLIENTS_USERS_USAGE = `  gatehouse clients list|create|rotate-secret --config gatehouse.yaml [options]
      Registered clients, read from the store: list (no secrets), create (--id, --name,
      --auth-method, --grant, --scope, --audience, --redirect-uri, --token-format, --first-party;
      the generated secret is shown once), rotate-secret --id (the old secret stops working).
  gatehouse users list|create --config gatehouse.yaml [options]
      Users: list (no password hashes), create (--username, --claim name=value ..., --totp;
      the password is read from GATEHOUSE_NEW_USER_PASSWORD, never from the command line).
`

type Out = NodeJS.WritableStream

async function withStore<T>(
  configFile: string,
  run: (
    store: AuthorizationServerStore,
    loaded: Awaited<ReturnType<typeof loadGatehouseConfig>>,
  ) => Promise<T>,
): Promise<T> {
  const loaded = await loadGatehouseConfig(configFile)
  if (loaded.settings.authorizationServer === undefined || loaded.settings.store === undefined) {
    throw new RuntimeConfigError('authorizationServer', 'is missing from the configuration')
  }
  const store = await openStore(resolveStore(loaded.settings.store, secretContextFor(configFile)))
  try {
    return await run(store, loaded)
  } finally {
    await store.close()
  }
}

const LIST = { type: 'string', multiple: true } as const

/** `gatehouse clients …`: against the store directly, like `gatehouse keys`. */
export async function runClients(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      id: { type: 'string' },
      name: { type: 'string' },
      'auth-method': { type: 'string' },
      'token-format': { type: 'string' },
      grant: LIST,
      scope: LIST,
      audience: LIST,
      'redirect-uri': LIST,
      'first-party': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  })
  const action = positionals[0]
  if (!['list', 'create', 'rotate-secret'].includes(action ?? '') || positionals.length > 1) {
    throw new RuntimeConfigError('clients', 'name one action: list, create or rotate-secret')
  }
  if (values.config === undefined) throw new RuntimeConfigError('--config', 'is required')
  return withStore(values.config, async (store) => {
    if (action === 'list') {
      const clients = await store.listClients()
      const views = clients.map((client) => {
        const { secretHash: _secretHash, ...view } = client
        return view
      })
      if (values.json) out.write(`${JSON.stringify(views, null, 2)}\n`)
      else
        for (const client of clients)
          out.write(
            `${client.clientId.padEnd(28)} ${client.tokenEndpointAuthMethod.padEnd(20)} ${client.tokenFormat.padEnd(7)} ${client.grantTypes.join(',')}  scopes: ${client.scopes.join(' ') || '-'}\n`,
          )
      return 0
    }
    if (action === 'rotate-secret') {
      if (values.id === undefined) throw new RuntimeConfigError('--id', 'is required')
      const secret = await rotateClientSecret(store, values.id)
      if (secret === null)
        throw new RuntimeConfigError('--id', `no client ${values.id} with a secret`)
      out.write(`${values.id}: new client secret (shown once, stored only as a hash):\n${secret}\n`)
      return 0
    }
    if (values.name === undefined) throw new RuntimeConfigError('--name', 'is required')
    let created: Awaited<ReturnType<typeof createClient>>
    try {
      created = await createClient(store, {
        ...(values.id === undefined ? {} : { clientId: values.id }),
        name: values.name,
        ...(values['auth-method'] === undefined
          ? {}
          : { tokenEndpointAuthMethod: values['auth-method'] as never }),
        ...(values['token-format'] === undefined
          ? {}
          : { tokenFormat: values['token-format'] as never }),
        ...(values.grant === undefined ? {} : { grantTypes: values.grant as never }),
        scopes: values.scope ?? [],
        audiences: values.audience ?? [],
        redirectUris: values['redirect-uri'] ?? [],
        firstParty: values['first-party'],
      })
    } catch (error) {
      if (error instanceof Error && error.name === 'ZodError') {
        const issues = (error as unknown as { issues: { path: PropertyKey[]; message: string }[] })
          .issues
        const first = issues[0]
        throw new RuntimeConfigError(
          first === undefined ? 'client' : first.path.map(String).join('.'),
          first?.message ?? 'invalid',
        )
      }
      throw error
    }
    out.write(`created client ${created.client.clientId}\n`)
    if (created.clientSecret !== null) {
      out.write(`client secret (shown once, stored only as a hash):\n${created.clientSecret}\n`)
    }
    return 0
  })
}

/** `gatehouse users …`: passwords never travel on the command line (shell history, ps). */
export async function runUsers(
  args: string[],
  out: Out,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      username: { type: 'string' },
      claim: LIST,
      totp: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  })
  const action = positionals[0]
  if (!['list', 'create'].includes(action ?? '') || positionals.length > 1) {
    throw new RuntimeConfigError('users', 'name one action: list or create')
  }
  if (values.config === undefined) throw new RuntimeConfigError('--config', 'is required')
  const configFile = values.config
  return withStore(configFile, async (store, loaded) => {
    if (action === 'list') {
      const users = await store.listUsers()
      const views = users.map((user) => ({
        id: user.id,
        username: user.username,
        claims: user.claims,
        mfa: user.encryptedTotpSecret !== null,
        disabled: user.disabled,
        lockedUntil: user.lockedUntil,
      }))
      if (values.json) out.write(`${JSON.stringify(views, null, 2)}\n`)
      else
        for (const user of views)
          out.write(
            `${user.username.padEnd(24)} mfa:${user.mfa ? 'yes' : 'no '} ${JSON.stringify(user.claims)}\n`,
          )
      return 0
    }
    if (values.username === undefined) throw new RuntimeConfigError('--username', 'is required')
    const password = env.GATEHOUSE_NEW_USER_PASSWORD
    if (password === undefined || password === '') {
      throw new RuntimeConfigError(
        'GATEHOUSE_NEW_USER_PASSWORD',
        'set the new user password in this environment variable',
      )
    }
    const claims: Record<string, string> = {}
    for (const pair of values.claim ?? []) {
      const eq = pair.indexOf('=')
      if (eq <= 0)
        throw new RuntimeConfigError('--claim', `expected name=value, got "${pair.slice(0, 40)}"`)
      claims[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    const config = loaded.settings.authorizationServer
    if (config === undefined) throw new RuntimeConfigError('authorizationServer', 'is missing')
    const context = secretContextFor(configFile)
    const { keyEncryptionKey } = resolveAuthorizationServerSecrets(config, context)
    try {
      const { user, totpSecret } = await createUser(store, createKeyEncryption(keyEncryptionKey), {
        username: values.username,
        password,
        claims,
        totp: values.totp,
      })
      out.write(`created user ${user.username} (${user.id})\n`)
      if (totpSecret !== null)
        out.write(`TOTP secret to enrol in an authenticator app (shown once):\n${totpSecret}\n`)
    } catch (error) {
      if (error instanceof Error && error.name === 'ZodError') {
        const first = (error as unknown as { issues: { path: PropertyKey[]; message: string }[] })
          .issues[0]
        throw new RuntimeConfigError(
          first === undefined ? 'user' : first.path.map(String).join('.'),
          first?.message ?? 'invalid',
        )
      }
      throw error
    }
    return 0
  })
}

export function clientsCommand(args: string[], io: { stdout: Out; stderr: Out }): Promise<number> {
  return exitTwoOnConfigError(() => runClients(args, io.stdout), io.stderr)
}

export function usersCommand(args: string[], io: { stdout: Out; stderr: Out }): Promise<number> {
  return exitTwoOnConfigError(() => runUsers(args, io.stdout), io.stderr)
}
