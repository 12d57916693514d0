import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type AuthorizationServer,
  type AuthorizationServerStore,
  createAuthorizationServer,
  createClient,
  createKeyEncryption,
  createSqliteStore,
  createUser,
  parseAuthorizationServerConfig,
  resolveSecrets,
  rotateClientSecret,
  type SplitTokenStore,
} from '@gatehouse/authorization-server'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { DEMO_CLIENTS, DEMO_SCOPES, DEMO_USERS } from './demo.js'
import { type DevWorkspace, randomPassword, rememberSecrets } from './workspace.js'

export interface DevAuthorizationServer {
  readonly server: AuthorizationServer
  readonly store: AuthorizationServerStore
  readonly workspace: DevWorkspace
  close(): Promise<void>
}

const KEY_ENV = 'GATEHOUSE_KEY_ENCRYPTION_KEY'

/**
 * The authorization server of the dev stack: SQLite under `.gatehouse/data`, the generated
 * key-encryption key, and the demo clients and users created on first start (their secrets kept
 * in `.gatehouse/secrets.json` so every later start can show them again).
 */
export async function startDevAuthorizationServer(
  workspace: DevWorkspace,
  issuer: string,
  onError: (error: unknown) => void,
  /** The gateway's split-token entries: in one process, the server writes them there directly. */
  splitTokens: SplitTokenStore,
): Promise<DevAuthorizationServer> {
  const config = parseAuthorizationServerConfig({
    issuer,
    keys: { encryptionKey: { env: KEY_ENV } },
    scopes: DEMO_SCOPES,
    // Only the gateway introspects other clients' tokens (any client may introspect its own).
    introspection: { allowedClients: ['gatehouse-gateway'] },
  })
  const secrets = resolveSecrets(config, { env: { [KEY_ENV]: workspace.secrets.keyEncryptionKey } })
  const store = createSqliteStore({ path: join(workspace.dataDir, 'authorization-server.db') })
  let current = workspace
  try {
    current = await ensureDemoData(store, current, createKeyEncryption(secrets.keyEncryptionKey))
    const server = await createAuthorizationServer(config, { store, secrets, onError, splitTokens })
    return {
      server,
      store,
      workspace: current,
      async close() {
        await server.close()
        await store.close()
      },
    }
  } catch (error) {
    await store.close()
    throw error
  }
}

async function ensureDemoData(
  store: AuthorizationServerStore,
  workspace: DevWorkspace,
  encryption: ReturnType<typeof createKeyEncryption>,
): Promise<DevWorkspace> {
  const clientSecrets: Record<string, string> = {}
  for (const demo of DEMO_CLIENTS) {
    const existing = await store.getClient(demo.clientId)
    if (existing === null) {
      const jwks =
        demo.tokenEndpointAuthMethod === 'private_key_jwt'
          ? { keys: [await loadOrCreateClientKey(workspace, demo.clientId)] }
          : undefined
      const { clientSecret } = await createClient(store, {
        ...(jwks === undefined ? {} : { jwks }),
        clientId: demo.clientId,
        name: demo.name,
        tokenEndpointAuthMethod: demo.tokenEndpointAuthMethod,
        tokenFormat: demo.tokenFormat,
        grantTypes: [...demo.grantTypes],
        scopes: [...demo.scopes],
        audiences: [...demo.audiences],
        redirectUris: [...(demo.redirectUris ?? [])],
        firstParty: demo.firstParty ?? false,
      })
      if (clientSecret !== null) clientSecrets[demo.clientId] = clientSecret
    } else if (
      existing.secretHash !== null &&
      workspace.secrets.clientSecrets[demo.clientId] === undefined
    ) {
      // The secret was lost from secrets.json: only its hash is stored, so issue a new one.
      const clientSecret = await rotateClientSecret(store, demo.clientId)
      if (clientSecret !== null) clientSecrets[demo.clientId] = clientSecret
    }
  }
  const userPasswords: Record<string, string> = {}
  const totpSecrets: Record<string, string> = {}
  for (const demo of DEMO_USERS) {
    if ((await store.getUserByUsername(demo.username)) !== null) continue
    const password = randomPassword()
    const { totpSecret } = await createUser(store, encryption, {
      username: demo.username,
      password,
      claims: demo.claims,
      totp: demo.totp,
    })
    userPasswords[demo.username] = password
    if (totpSecret !== null) totpSecrets[demo.username] = totpSecret
  }
  if (Object.keys(clientSecrets).length + Object.keys(userPasswords).length === 0) return workspace
  return rememberSecrets(workspace, { clientSecrets, userPasswords, totpSecrets })
}

/** Where a private_key_jwt demo client's private key lives (a JWK file, mode 0600). */
export function clientKeyFile(workspace: DevWorkspace, clientId: string): string {
  return join(workspace.root, 'keys', `${clientId}.private.jwk.json`)
}

/** Loads or makes the demo client's ES256 key pair; returns the public JWK to register. */
async function loadOrCreateClientKey(workspace: DevWorkspace, clientId: string): Promise<JWK> {
  const file = clientKeyFile(workspace, clientId)
  let privateJwk: JWK
  try {
    privateJwk = JSON.parse(await readFile(file, 'utf8')) as JWK
  } catch {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    privateJwk = {
      ...(await exportJWK(privateKey)),
      kid: `${clientId}-1`,
      alg: 'ES256',
      use: 'sig',
    }
    await mkdir(join(workspace.root, 'keys'), { recursive: true, mode: 0o700 })
    await writeFile(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 })
  }
  const { d: _d, ...publicJwk } = privateJwk
  return publicJwk
}
