/**
 * Child-process entry: the Gatehouse authorization server over HTTPS on 127.0.0.1 with ES256
 * signing keys, on its default store kind (SQLite, a file in GATEHOUSE_BENCH_DATA_DIR, WAL), or
 * with `--postgres-schema <name>` on PostgreSQL (`createPostgresStore`, the URL from
 * GATEHOUSE_BENCH_POSTGRES_URL, the tables in that schema). The store is chosen by the argument
 * only, so an environment set for one suite never switches another suite's server.
 * Prints an `AuthorizationServerReady` line. Exits on SIGTERM.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type AuthorizationServer,
  createAuthorizationServer,
  createClient,
  createPostgresStore,
  createSqliteStore,
  parseAuthorizationServerConfig,
} from '@gatehouse/authorization-server'
import {
  type AuthorizationServerReady,
  BENCH_AUDIENCE,
  BENCH_SCOPE,
  INTROSPECTION_CLIENT,
  JWT_CLIENT,
  OPAQUE_CLIENT,
  tlsFilesFromEnv,
} from './bench-oauth.js'

const tls = tlsFilesFromEnv()
const dataDir = process.env.GATEHOUSE_BENCH_DATA_DIR
if (dataDir === undefined) throw new Error('GATEHOUSE_BENCH_DATA_DIR must be set')

let app: AuthorizationServer | undefined
const server = createServer(
  { cert: readFileSync(tls.cert), key: readFileSync(tls.key) },
  function serve(req, res) {
    if (app === undefined) {
      res.writeHead(503).end()
      return
    }
    app.handler(req, res)
  },
)
server.keepAliveTimeout = 60_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port
const issuer = `https://127.0.0.1:${port}`
const { values } = parseArgs({ options: { 'postgres-schema': { type: 'string' } } })
const postgresSchema = values['postgres-schema']
const postgresUrl = process.env.GATEHOUSE_BENCH_POSTGRES_URL
if (postgresSchema !== undefined && postgresUrl === undefined) {
  throw new Error('--postgres-schema needs GATEHOUSE_BENCH_POSTGRES_URL')
}
const store =
  postgresSchema === undefined || postgresUrl === undefined
    ? createSqliteStore({ path: join(dataDir, `gatehouse-${process.pid}.sqlite`) })
    : await createPostgresStore({
        url: postgresUrl,
        schema: postgresSchema,
        onPoolError: (error) => console.error('PostgreSQL pool error', error.message),
      })
const config = parseAuthorizationServerConfig({
  issuer,
  // The key itself is passed in `secrets` below (what `resolveSecrets` would read from this variable).
  keys: { algorithm: 'ES256', encryptionKey: { env: 'GATEHOUSE_KEY_ENCRYPTION_KEY' } },
  scopes: { [BENCH_SCOPE]: { description: 'Read orders' } },
})
app = await createAuthorizationServer(config, {
  store,
  secrets: { keyEncryptionKey: randomBytes(32) },
  onError: (error) => console.error('authorization server internal error', error),
})
const clientSecrets: Record<string, string> = {}
const clients = [
  { clientId: OPAQUE_CLIENT, tokenFormat: 'opaque' as const, scopes: [BENCH_SCOPE] },
  { clientId: JWT_CLIENT, tokenFormat: 'jwt' as const, scopes: [BENCH_SCOPE] },
  { clientId: INTROSPECTION_CLIENT, tokenFormat: 'opaque' as const, scopes: [] },
]
for (const client of clients) {
  const { clientSecret } = await createClient(store, {
    ...client,
    name: client.clientId,
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    audiences: [BENCH_AUDIENCE],
  })
  if (clientSecret === null) throw new Error(`${client.clientId}: no secret issued`)
  clientSecrets[client.clientId] = clientSecret
}
const ready: AuthorizationServerReady = {
  port,
  issuer,
  clientSecrets,
  store:
    postgresSchema === undefined
      ? 'SQLite file (better-sqlite3, WAL), the default store kind'
      : `PostgreSQL (pg pool of 10, schema ${postgresSchema})`,
}
process.stdout.write(`${JSON.stringify(ready)}\n`)
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => {
    const running = app
    void (running === undefined ? Promise.resolve() : running.close())
      .then(() => store.close())
      .finally(() => process.exit(0))
  })
})
