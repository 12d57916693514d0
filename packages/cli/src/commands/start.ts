import { relative } from 'node:path'
import { createAuditBus } from '@gatehouse/audit'
import { createOrdersApi } from '@gatehouse/example-orders-api'
import { createSpaHandler } from '@gatehouse/example-spa'
import {
  connectRevocationSource,
  createGateway,
  createMemoryState,
  loadGatewayConfig,
} from '@gatehouse/gateway'
import pino from 'pino'
import { clientKeyFile, startDevAuthorizationServer } from '../dev-stack/authorization-server.js'
import { DEMO_CLIENTS, DEMO_USERS, ECHO_AUDIENCE, ORDERS_AUDIENCE } from '../dev-stack/demo.js'
import { buildDevJson, writeDevJson } from '../dev-stack/dev-json.js'
import { echoHandler } from '../dev-stack/echo-upstream.js'
import { DEV_ROUTES, devGatewayConfig } from '../dev-stack/gateway-config.js'
import { listenHttps, listenLater } from '../dev-stack/listen.js'
import { createPrefixedOutput } from '../dev-stack/logging.js'
import { waitUntilAnswering } from '../dev-stack/readiness.js'
import { loadDevTls } from '../dev-stack/tls.js'
import {
  SPA_API_PATH,
  startDevTokenHandler,
  TOKEN_HANDLER_CLIENT_ID,
} from '../dev-stack/token-handler.js'
import { openDevWorkspace } from '../dev-stack/workspace.js'

export interface StartOptions {
  /** The state directory. Default `.gatehouse`. */
  readonly dir: string
  /** `fixed`: the documented ports (8443…); `free`: any free ports (tests, parallel stacks). */
  readonly ports: 'fixed' | 'free'
  readonly out?: NodeJS.WritableStream
}

export const FIXED_PORTS = {
  authorizationServer: 8443,
  gateway: 8444,
  tokenHandler: 8445,
  spa: 8446,
  ordersApi: 8447,
  echo: 8448,
  metrics: 9464,
} as const

export interface RunningStack {
  readonly issuer: string
  readonly gatewayUrl: string
  readonly tokenHandlerUrl: string
  readonly spaUrl: string
  readonly metricsUrl: string
  /** `.gatehouse/dev.json`, written once every component answers. */
  readonly devJsonFile: string
  close(): Promise<void>
}

/**
 * `gatehouse start`: the Gatehouse platform on one machine — a local CA and certificates it makes
 * itself, the authorization server on SQLite with demo clients and users, all logging to one
 * terminal with a prefix per component.
 */
export async function startDevStack(options: StartOptions): Promise<RunningStack> {
  const out = options.out ?? process.stdout
  const output = createPrefixedOutput(out)
  const log = pino({ base: { component: 'gatehouse' } }, output.stream('gatehouse'))
  const asLog = pino(
    { base: { component: 'authorization-server' } },
    output.stream('authorization-server'),
  )
  let workspace = await openDevWorkspace(options.dir)
  const tls = await loadDevTls(workspace.tlsDir)
  const port = (fixed: number) => (options.ports === 'fixed' ? fixed : 0)
  const closers: (() => Promise<void>)[] = []

  try {
    // URLs name their ports, and components name each other's URLs: listen first, install each
    // handler once what it needs is known.
    const asListener = await listenLater(tls.server, port(FIXED_PORTS.authorizationServer))
    closers.push(asListener.close)
    const spaListener = await listenLater(tls.server, port(FIXED_PORTS.spa))
    closers.push(spaListener.close)
    const thListener = await listenLater(tls.server, port(FIXED_PORTS.tokenHandler))
    closers.push(thListener.close)
    const spaUrl = `https://localhost:${spaListener.port}`
    const tokenHandlerUrl = `https://localhost:${thListener.port}`
    const issuer = `https://localhost:${asListener.port}`
    // The gateway's state, made first: in embedded mode the authorization server writes split-token
    // entries into it and its revocations evict cached phantom tokens, all in this one process.
    const gatewayState = createMemoryState()
    closers.push(() => gatewayState.close())
    const as = await startDevAuthorizationServer(
      workspace,
      issuer,
      (error) =>
        asLog.error(
          {
            err:
              error instanceof Error ? { type: error.name, message: error.message } : String(error),
          },
          'internal error',
        ),
      gatewayState.splitTokens,
    )
    closers.push(as.close)
    workspace = as.workspace
    asListener.install(as.server.handler)
    as.server.events.audit.subscribe({
      write: (event) => asLog.info({ audit: event }, event.type),
    })

    // The token handler: the SPA's confidential client, keeping tokens in encrypted cookies.
    const thLog = pino({ base: { component: 'token-handler' } }, output.stream('token-handler'))
    const th = await startDevTokenHandler({
      workspace,
      store: as.store,
      issuer,
      spaUrl,
      ca: tls.ca,
      onOutcome: (outcome) =>
        thLog.info(
          { route: outcome.route, status: outcome.status, reason: outcome.reason },
          'refused',
        ),
    })
    thListener.install(th.tokenHandler.handler)
    closers.push(() => th.tokenHandler.close())

    // The orders API: reachable only over mTLS with the gateway's client certificate.
    const ordersAudit = createAuditBus()
    const ordersLog = pino({ base: { component: 'orders-api' } }, output.stream('orders-api'))
    ordersAudit.subscribe({ write: (event) => ordersLog.info({ audit: event }, event.type) })
    const ordersApi = await createOrdersApi({
      issuer,
      audience: ORDERS_AUDIENCE,
      keys: { jwksUri: `${issuer}/jwks`, ca: tls.ca },
      tls: {
        cert: tls.server.cert,
        key: tls.server.key,
        clientCa: tls.ca,
        allowedClientCommonNames: ['gatehouse-gateway'],
      },
      port: port(FIXED_PORTS.ordersApi),
      audit: ordersAudit,
      logger: ordersLog,
    })
    const orders = await ordersApi.listen()
    closers.push(() => ordersApi.close())

    // The echo upstream (method, path and headers it received), for seeing what the gateway forwards.
    const echo = await listenHttps(echoHandler, tls.server, port(FIXED_PORTS.echo))
    closers.push(echo.close)

    // The gateway: every auth method, in front of both; revocations reach it in-process.
    const gatewayLog = pino({ base: { component: 'gateway' } }, output.stream('gateway'))
    const gatewayAudit = createAuditBus()
    gatewayAudit.subscribe({ write: (event) => gatewayLog.info({ audit: event }, event.type) })
    const gatewayConfig = loadGatewayConfig(
      devGatewayConfig({
        port: port(FIXED_PORTS.gateway),
        adminPort: port(FIXED_PORTS.metrics),
        issuer,
        ca: tls.ca,
        serverCert: tls.server.cert,
        gatewayClientCert: tls.gatewayClient.cert,
        ordersUrl: `https://localhost:${orders.port}`,
        echoUrl: `https://localhost:${echo.port}`,
        spa: {
          origin: spaUrl,
          apiPath: SPA_API_PATH,
          cookieNamePrefix: th.config.cookies.namePrefix,
          csrfHeaderName: th.config.csrf.headerName,
          cookieKeyId: th.config.cookies.currentKeyId,
        },
      }),
      {
        env: {
          GATEHOUSE_TLS_KEY: tls.server.key,
          GATEHOUSE_GATEWAY_CLIENT_KEY: tls.gatewayClient.key,
          GATEHOUSE_GATEWAY_CLIENT_SECRET:
            workspace.secrets.clientSecrets['gatehouse-gateway'] ?? '',
          GATEHOUSE_COOKIE_KEY: workspace.secrets.cookieKey,
        },
      },
    )
    const gateway = createGateway(gatewayConfig, {
      logger: gatewayLog,
      audit: gatewayAudit,
      state: gatewayState,
    })
    const gatewayAddress = await gateway.listen()
    closers.push(() => gateway.close())
    const disconnect = connectRevocationSource(as.server.events.revocations, gateway.state)
    closers.push(async () => disconnect())
    const gatewayUrl = gatewayAddress.url.replace('127.0.0.1', 'localhost')
    const metricsUrl = `${gatewayAddress.adminUrl ?? ''}/metrics`

    // The example SPA: signs in through the token handler, calls the orders API through the gateway.
    spaListener.install(
      createSpaHandler({
        config: {
          tokenHandlerUrl,
          apiBaseUrl: gatewayUrl,
          ordersPath: `${SPA_API_PATH}/orders`,
          csrfHeaderName: th.config.csrf.headerName,
        },
      }),
    )

    await waitUntilAnswering(
      [
        `${issuer}/.well-known/openid-configuration`,
        `${gatewayUrl}/public/ready`,
        `${tokenHandlerUrl}/session`,
        `${spaUrl}/`,
        metricsUrl,
      ],
      tls.ca,
    )
    const devJson = buildDevJson({
      workspace,
      issuer,
      gatewayUrl,
      tokenHandlerUrl,
      spaUrl,
      metricsUrl,
      caCertFile: tls.caCertFile,
      routes: DEV_ROUTES,
      redirectUris: { [TOKEN_HANDLER_CLIENT_ID]: [`${spaUrl}/callback`] },
    })
    await writeDevJson(workspace.devJsonFile, devJson)

    const caFile = relative(process.cwd(), tls.caCertFile) || tls.caCertFile
    const credentialOf = (clientId: string, method: string) =>
      method === 'private_key_jwt'
        ? `key ${relative(process.cwd(), clientKeyFile(workspace, clientId))}`
        : method === 'none'
          ? 'public client, no secret'
          : `secret ${workspace.secrets.clientSecrets[clientId] ?? '?'}`
    const summary = [
      '',
      'Gatehouse is running.',
      '',
      `  authorization server  ${issuer}`,
      `    discovery           ${issuer}/.well-known/openid-configuration`,
      `  example SPA           ${spaUrl}  (sign in as a demo user)`,
      `  token handler         ${tokenHandlerUrl}`,
      `  gateway               ${gatewayUrl}`,
      `    metrics             ${metricsUrl}`,
      `  orders API (mTLS)     ${orders.url}  (only the gateway's client certificate gets in)`,
      `  local CA certificate  ${caFile}`,
      `  all of this as JSON   ${relative(process.cwd(), workspace.devJsonFile)}`,
      '',
      '  demo clients:',
      ...DEMO_CLIENTS.map(
        (client) =>
          `    ${client.clientId.padEnd(20)} ${credentialOf(client.clientId, client.tokenEndpointAuthMethod)}  — ${client.purpose}`,
      ),
      '',
      '  demo users:',
      ...DEMO_USERS.map(
        (user) =>
          `    ${user.username.padEnd(20)} password ${workspace.secrets.userPasswords[user.username] ?? '?'}${
            user.totp ? `  TOTP secret ${workspace.secrets.totpSecrets[user.username] ?? '?'}` : ''
          }`,
      ),
      '',
      '  routes:',
      ...DEV_ROUTES.map(
        (route) =>
          `    ${route.name.padEnd(16)} ${route.method} ${gatewayUrl}${route.path}  (${route.auth}${route.scope === '' ? '' : `, scope ${route.scope}`})`,
      ),
      '',
      '  try:',
      `    TOKEN=$(curl -s --cacert ${caFile} -u demo-partner:${workspace.secrets.clientSecrets['demo-partner'] ?? '…'} \\`,
      `            -d grant_type=client_credentials -d scope=echo -d resource=${ECHO_AUDIENCE} ${issuer}/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')`,
      `    curl --cacert ${caFile} -H "Authorization: Bearer $TOKEN" ${gatewayUrl}/echo/hello`,
      `    curl --cacert ${caFile} -i ${gatewayUrl}/echo/hello          # no token: 401`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ]
    out.write(`${summary.join('\n')}\n`)
    log.info({ issuer, gatewayUrl }, 'dev stack started')
    return {
      issuer,
      gatewayUrl,
      tokenHandlerUrl,
      spaUrl,
      metricsUrl,
      devJsonFile: workspace.devJsonFile,
      async close() {
        for (const close of closers.reverse()) await close().catch(() => {})
      },
    }
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {})
    throw error
  }
}
