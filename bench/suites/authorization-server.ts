import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeProtectedHeader } from 'jose'
import { type BenchPki, createBenchPki } from '../harness/bench-pki.js'
import { type ChildServer, startChildServer } from '../harness/child-server.js'
import {
  compareHttp,
  defaultHttpLoad,
  type HttpTarget,
  loadTargetsInterleaved,
  targetNamed,
} from '../harness/http-comparison.js'
import { loadSideBySide } from '../harness/side-by-side.js'
import type { Suite, SuiteContext, SuiteResult } from '../harness/types.js'
import {
  type AuthorizationServerReady,
  INTROSPECTION_CLIENT,
  JWT_CLIENT,
  OPAQUE_CLIENT,
} from '../servers/bench-oauth.js'
import {
  basicAuthorization,
  CLIENT_CREDENTIALS_BODY,
  createOAuthClient,
  FORM,
  type OAuthClient,
} from './oauth-client.js'

const SUITE = 'authorization-server'
const GATEHOUSE = 'Gatehouse'
const OIDC_PROVIDER = 'oidc-provider 8'
const OIDC_PROVIDER_SQLITE = 'oidc-provider 8 on SQLite'

export interface RunningServer {
  readonly label: string
  readonly child: ChildServer
  readonly ready: AuthorizationServerReady
  readonly tokenEndpoint: string
  readonly introspectionEndpoint: string
}

/**
 * The Gatehouse authorization server against the npm package `oidc-provider`, configured alike
 * (servers/): `POST /token` client_credentials with client_secret_basic, opaque and JWT (ES256)
 * access tokens, and RFC 7662 introspection of an opaque token by an authenticated resource.
 * oidc-provider runs twice: on its default in-memory adapter, and on SQLite in a file as Gatehouse
 * keeps its tokens (servers/oidc-provider-sqlite-adapter.ts). Every server runs in its own process
 * on the server core, over HTTPS with the same certificate; wrk sends the form bodies from its
 * Lua script.
 */
export const authorizationServerSuite: Suite = {
  name: SUITE,
  description: 'Gatehouse authorization server vs oidc-provider: token endpoint and introspection',
  usesHttpLoad: true,
  async run(context) {
    const pki = await createBenchPki()
    const client = createOAuthClient(pki.caCert)
    const servers: ChildServer[] = []
    try {
      const gatehouse = await startAuthorizationServer(
        context,
        pki,
        client,
        GATEHOUSE,
        'gatehouse-authorization-server.js',
        servers,
      )
      const oidcProvider = await startAuthorizationServer(
        context,
        pki,
        client,
        OIDC_PROVIDER,
        'oidc-provider-server.js',
        servers,
      )
      const oidcProviderOnSqlite = await startAuthorizationServer(
        context,
        pki,
        client,
        OIDC_PROVIDER_SQLITE,
        'oidc-provider-server.js',
        servers,
        { args: ['--sqlite-file', join(pki.dir, 'oidc-provider.sqlite')] },
      )
      const all = [gatehouse, oidcProvider, oidcProviderOnSqlite]
      for (const server of all) {
        context.log(` ${server.label}: store = ${server.ready.store}`)
        await checkServer(client, server)
      }
      const targets = all.flatMap((server) => targetsFor(client, server))
      const measured = await loadTargetsInterleaved(context, targets, defaultHttpLoad(context))
      const twice = { atLeast: 2, source: 'issue #3' }
      const results: SuiteResult[] = []
      for (const baseline of [OIDC_PROVIDER, OIDC_PROVIDER_SQLITE]) {
        for (const figure of [TOKEN_OPAQUE, TOKEN_JWT, INTROSPECTION]) {
          results.push(
            ...compareHttp({
              suite: SUITE,
              contender: name(GATEHOUSE, figure),
              baseline: name(baseline, figure),
              measured,
              ...(figure === INTROSPECTION ? {} : { throughputTarget: twice }),
            }),
          )
        }
      }
      results.push(
        ...compareHttp({
          suite: SUITE,
          contender: name(GATEHOUSE, INTROSPECTION),
          baseline: name(GATEHOUSE, TOKEN_OPAQUE),
          measured,
          figures: ['requests/s'],
          throughputTarget: { atLeast: 1, source: 'issue #3' },
        }),
      )
      // The same comparisons as CPU-cost ratios: Gatehouse and oidc-provider loaded at the same
      // time on the server core, so a slow minute of the host slows both alike.
      for (const baseline of [OIDC_PROVIDER, OIDC_PROVIDER_SQLITE]) {
        for (const figure of [TOKEN_OPAQUE, TOKEN_JWT, INTROSPECTION]) {
          const pair: [HttpTarget, HttpTarget] = [
            targetNamed(targets, name(GATEHOUSE, figure)),
            targetNamed(targets, name(baseline, figure)),
          ]
          results.push(
            ...compareHttp({
              suite: SUITE,
              contender: pair[0].name,
              baseline: pair[1].name,
              measured: await loadSideBySide(context, pair, defaultHttpLoad(context)),
              label: 'side by side on one core (cost ratio)',
              figures: ['requests/s'],
            }),
          )
        }
      }
      return results
    } finally {
      await Promise.all(servers.map((server) => server.close()))
      await client.close()
      await pki.remove()
    }
  },
}

export const TOKEN_OPAQUE = 'POST /token client_credentials, opaque'
const TOKEN_JWT = 'POST /token client_credentials, JWT ES256'
export const INTROSPECTION = 'introspection of an opaque token'

export function name(server: string, figure: string): string {
  return `${server} ${figure}`
}

export async function startAuthorizationServer(
  context: SuiteContext,
  pki: BenchPki,
  client: OAuthClient,
  label: string,
  script: string,
  servers: ChildServer[],
  extra: { readonly args?: readonly string[]; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<RunningServer> {
  const child = await startChildServer({
    name: label,
    script: fileURLToPath(new URL(`../servers/${script}`, import.meta.url)),
    ...(extra.args === undefined ? {} : { args: extra.args }),
    cores: context.cpu.serverCores,
    protocol: 'https',
    env: {
      GATEHOUSE_BENCH_TLS_CERT_FILE: pki.certFile,
      GATEHOUSE_BENCH_TLS_KEY_FILE: pki.keyFile,
      GATEHOUSE_BENCH_DATA_DIR: pki.dir,
      ...extra.env,
    },
    startTimeoutMs: 30_000,
  })
  servers.push(child)
  const ready = child.ready as unknown as AuthorizationServerReady
  // Both servers say where their endpoints are (oidc-provider: /token/introspection).
  const metadata = await client.getJson(`${ready.issuer}/.well-known/openid-configuration`)
  const tokenEndpoint = metadata.token_endpoint
  const introspectionEndpoint = metadata.introspection_endpoint
  if (typeof tokenEndpoint !== 'string' || typeof introspectionEndpoint !== 'string') {
    throw new Error(`${label}: discovery lists no token or introspection endpoint`)
  }
  return { label, child, ready, tokenEndpoint, introspectionEndpoint }
}

export function secretOf(server: RunningServer, clientId: string): string {
  const secret = server.ready.clientSecrets[clientId]
  if (secret === undefined) throw new Error(`${server.label}: no secret for ${clientId}`)
  return secret
}

/** Checks that each server issues what is measured: an opaque token, an ES256 JWT, active introspection. */
export async function checkServer(client: OAuthClient, server: RunningServer): Promise<void> {
  const issue = (clientId: string) =>
    client.clientCredentials(server.tokenEndpoint, clientId, secretOf(server, clientId))
  const opaque = await issue(OPAQUE_CLIENT)
  if (opaque.split('.').length === 3) throw new Error(`${server.label}: opaque client got a JWT`)
  const jwt = await issue(JWT_CLIENT)
  const header = decodeProtectedHeader(jwt)
  if (header.alg !== 'ES256' || header.typ !== 'at+jwt') {
    throw new Error(`${server.label}: JWT client got ${JSON.stringify(header)}, not ES256 at+jwt`)
  }
  await expectActive(client, server, opaque)
}

async function expectActive(
  client: OAuthClient,
  server: RunningServer,
  token: string,
): Promise<void> {
  const answer = await client.introspect(
    server.introspectionEndpoint,
    INTROSPECTION_CLIENT,
    secretOf(server, INTROSPECTION_CLIENT),
    token,
  )
  if (answer.active !== true || answer.client_id !== OPAQUE_CLIENT) {
    throw new Error(`${server.label}: introspection answered ${JSON.stringify(answer)}`)
  }
}

export function targetsFor(client: OAuthClient, server: RunningServer): HttpTarget[] {
  const tokenUrl = new URL(server.tokenEndpoint)
  const tokenRequest = (clientId: string) => ({
    url: tokenUrl,
    method: 'POST' as const,
    headers: {
      authorization: basicAuthorization(clientId, secretOf(server, clientId)),
      'content-type': FORM,
    },
    body: CLIENT_CREDENTIALS_BODY,
  })
  // A fresh token for every introspection round: oidc-provider's in-memory store keeps the last
  // 1,000 entries only, and the issuing rounds in between would push an old token out.
  let introspected = ''
  return [
    { name: name(server.label, TOKEN_OPAQUE), ...tokenRequest(OPAQUE_CLIENT) },
    { name: name(server.label, TOKEN_JWT), ...tokenRequest(JWT_CLIENT) },
    {
      name: name(server.label, INTROSPECTION),
      url: new URL(server.introspectionEndpoint),
      method: 'POST',
      headers: {
        authorization: basicAuthorization(
          INTROSPECTION_CLIENT,
          secretOf(server, INTROSPECTION_CLIENT),
        ),
        'content-type': FORM,
      },
      body: () => `token=${encodeURIComponent(introspected)}`,
      async beforeRound() {
        introspected = await client.clientCredentials(
          server.tokenEndpoint,
          OPAQUE_CLIENT,
          secretOf(server, OPAQUE_CLIENT),
        )
      },
      // A 200 {"active":false} would count as a success for wrk: check the token stayed active.
      afterRound: () => expectActive(client, server, introspected),
    },
  ]
}
