/**
 * Child-process entry: the npm package `oidc-provider` (v8, panva) over HTTPS on 127.0.0.1,
 * configured like the Gatehouse server of the `authorization-server` suite: the same three
 * clients (client_secret_basic, client_credentials), the same scope and audience, ES256 keys,
 * 600 s access tokens. Per client token formats come from the resource indicators feature
 * (`getResourceServerInfo` → `accessTokenFormat: 'opaque' | 'jwt'`), its equivalent of
 * Gatehouse's per-client `tokenFormat`. Store: its default in-memory adapter (an LRU of 1,000
 * entries), or with `--sqlite-file <file>` a SQLite database (oidc-provider-sqlite-adapter.ts),
 * as Gatehouse keeps its tokens. Prints an `AuthorizationServerReady` line. Exits on SIGTERM.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { RequestListener } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { exportJWK, generateKeyPair } from 'jose'
import Provider, { type ClientMetadata } from 'oidc-provider'
import {
  type AuthorizationServerReady,
  BENCH_AUDIENCE,
  BENCH_SCOPE,
  INTROSPECTION_CLIENT,
  JWT_CLIENT,
  OPAQUE_CLIENT,
  tlsFilesFromEnv,
} from './bench-oauth.js'
import { sqliteAdapter } from './oidc-provider-sqlite-adapter.js'

const { values } = parseArgs({ options: { 'sqlite-file': { type: 'string' } } })
const sqliteFile = values['sqlite-file']

const tls = tlsFilesFromEnv()
let listener: RequestListener | undefined
const server = createServer(
  { cert: readFileSync(tls.cert), key: readFileSync(tls.key) },
  function serve(req, res) {
    if (listener === undefined) {
      res.writeHead(503).end()
      return
    }
    listener(req, res)
  },
)
server.keepAliveTimeout = 60_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port
const issuer = `https://127.0.0.1:${port}`

const { privateKey } = await generateKeyPair('ES256', { extractable: true })
const signingKey = {
  ...(await exportJWK(privateKey)),
  kid: 'bench-es256',
  alg: 'ES256',
  use: 'sig',
}
const clientSecrets: Record<string, string> = {}
const clients = [OPAQUE_CLIENT, JWT_CLIENT, INTROSPECTION_CLIENT].map(
  (clientId): ClientMetadata => {
    const secret = randomBytes(32).toString('base64url')
    clientSecrets[clientId] = secret
    return {
      client_id: clientId,
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(clientId === INTROSPECTION_CLIENT ? {} : { scope: BENCH_SCOPE }),
    }
  },
)

const provider = new Provider(issuer, {
  ...(sqliteFile === undefined ? {} : { adapter: sqliteAdapter(sqliteFile) }),
  clients,
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  jwks: { keys: [signingKey] },
  scopes: [BENCH_SCOPE],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => BENCH_AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator, client) => {
        if (resourceIndicator !== BENCH_AUDIENCE) throw new Error('unknown resource')
        return {
          scope: BENCH_SCOPE,
          audience: BENCH_AUDIENCE,
          accessTokenTTL: 600,
          accessTokenFormat: client.clientId === JWT_CLIENT ? 'jwt' : 'opaque',
          jwt: { sign: { alg: 'ES256' } },
        }
      },
    },
  },
})
listener = provider.callback()

const ready: AuthorizationServerReady = {
  port,
  issuer,
  clientSecrets,
  store:
    sqliteFile === undefined
      ? 'its default in-memory adapter (LRU, 1,000 entries)'
      : 'SQLite in a file (a better-sqlite3 adapter: WAL, synchronous = NORMAL)',
}
process.stdout.write(`${JSON.stringify(ready)}\n`)
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
