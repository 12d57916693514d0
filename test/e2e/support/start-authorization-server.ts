/**
 * Starts a real Gatehouse authorization server for e2e tests: HTTPS on 127.0.0.1, port 0, with
 * a certificate from the dev CA, an SQLite store (in memory unless a path is given) and the
 * clients and users asked for. Other components' e2e tests reuse it (the gateway's phantom and
 * split routes need a real issuer).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  type AuthorizationServer,
  type AuthorizationServerConfigInput,
  type AuthorizationServerSecrets,
  type AuthorizationServerStore,
  type ClientInput,
  createAuthorizationServer,
  createClient,
  createKeyEncryption,
  createSqliteStore,
  createUser,
  parseAuthorizationServerConfig,
  type UserInput,
} from '@gatehouse/authorization-server'
import { type CertificateAuthority, createCertificateAuthority } from '@gatehouse/dev-ca'
import { Agent, fetch as undiciFetch } from 'undici'

export interface StartAuthorizationServerOptions {
  /** The CA to issue the server certificate from (a new one when absent). */
  readonly ca?: CertificateAuthority
  /** Configuration overrides; `issuer` and `keys.encryptionKey` are set by the helper. */
  readonly config?: Omit<Partial<AuthorizationServerConfigInput>, 'issuer' | 'keys'> & {
    readonly keys?: Omit<AuthorizationServerConfigInput['keys'], 'encryptionKey'>
  }
  readonly clients?: readonly (ClientInput & { clientId: string })[]
  readonly users?: readonly UserInput[]
  /** SQLite file; in memory by default. */
  readonly storePath?: string
  readonly now?: () => number
}

export interface StartedAuthorizationServer {
  readonly issuer: string
  readonly ca: CertificateAuthority
  readonly server: AuthorizationServer
  readonly store: AuthorizationServerStore
  /** The resolved secrets, as the CLI would pass them to admin functions (`rotateKeys`). */
  readonly secrets: AuthorizationServerSecrets
  /** client id → secret (null for public and private_key_jwt clients). */
  readonly clientSecrets: ReadonlyMap<string, string | null>
  /** username → base32 TOTP secret, for users created with `totp: true`. */
  readonly totpSecrets: ReadonlyMap<string, string>
  /** A fetch that trusts the dev CA (undici Agent). */
  readonly fetch: typeof fetch
  /** The same, shaped for oauth4webapi's `[customFetch]` option. */
  readonly customFetch: (
    url: string,
    options: {
      method: string
      headers: Record<string, string>
      body?: unknown
      redirect?: 'manual'
    },
  ) => Promise<Response>
  readonly agent: Agent
  close(): Promise<void>
}

export const DEFAULT_SCOPES = {
  'orders:read': { description: 'Read your orders', claims: ['customer_id'] },
  'orders:write': { description: 'Place and change your orders', claims: ['customer_id'] },
  profile: { description: 'Your name', claims: ['name'] },
  email: { description: 'Your e-mail address', claims: ['email'] },
  admin: { description: 'Administer Gatehouse' },
}

export async function startAuthorizationServer(
  options: StartAuthorizationServerOptions = {},
): Promise<StartedAuthorizationServer> {
  const ca = options.ca ?? (await createCertificateAuthority())
  const certificate = await ca.issue({ commonName: 'localhost', usage: 'server' })
  let app: AuthorizationServer | null = null
  const https: Server = createServer(
    { cert: certificate.cert, key: certificate.key },
    (req, res) => {
      if (app === null) {
        res.writeHead(503).end()
        return
      }
      app.handler(req, res)
    },
  )
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  const issuer = `https://127.0.0.1:${(https.address() as AddressInfo).port}`
  const keyEncryptionKey = randomBytes(32)
  const config = parseAuthorizationServerConfig({
    scopes: DEFAULT_SCOPES,
    ...options.config,
    issuer,
    keys: { ...options.config?.keys, encryptionKey: { env: 'GATEHOUSE_KEY_ENCRYPTION_KEY' } },
  })
  const store = createSqliteStore({ path: options.storePath ?? ':memory:' })
  const now = options.now ?? Date.now
  app = await createAuthorizationServer(config, {
    store,
    secrets: { keyEncryptionKey },
    now,
    onError: (error) => console.error('authorization server internal error', error),
  })
  const clientSecrets = new Map<string, string | null>()
  for (const input of options.clients ?? []) {
    const { clientSecret } = await createClient(store, input, { now: now() })
    clientSecrets.set(input.clientId, clientSecret)
  }
  const totpSecrets = new Map<string, string>()
  const encryption = createKeyEncryption(keyEncryptionKey)
  for (const input of options.users ?? []) {
    const { totpSecret } = await createUser(store, encryption, input, { now: now() })
    if (totpSecret !== null) totpSecrets.set(input.username, totpSecret)
  }
  const agent = new Agent({ connect: { ca: ca.cert } })
  const trustingFetch = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, {
      ...(init as Record<string, unknown>),
      dispatcher: agent,
    })) as unknown as typeof fetch
  const started = app
  return {
    issuer,
    ca,
    server: started,
    store,
    secrets: { keyEncryptionKey },
    clientSecrets,
    totpSecrets,
    fetch: trustingFetch,
    customFetch: (url, init) => trustingFetch(url, init as RequestInit),
    agent,
    async close() {
      await started.close()
      https.closeAllConnections()
      await new Promise<void>((resolve) => https.close(() => resolve()))
      await agent.close()
      await store.close()
    },
  }
}
