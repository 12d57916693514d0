import type { IncomingMessage, ServerResponse } from 'node:http'
import { relative } from 'node:path'
import pino from 'pino'
import { startDevAuthorizationServer } from '../dev-stack/authorization-server.js'
import { DEMO_CLIENTS, DEMO_USERS } from '../dev-stack/demo.js'
import { type Listening, listenHttps } from '../dev-stack/listen.js'
import { createPrefixedOutput } from '../dev-stack/logging.js'
import { loadDevTls } from '../dev-stack/tls.js'
import { openDevWorkspace } from '../dev-stack/workspace.js'

export interface StartOptions {
  /** The state directory. Default `.gatehouse`. */
  readonly dir: string
  /** `fixed`: the documented ports (8443…); `free`: any free ports (tests, parallel stacks). */
  readonly ports: 'fixed' | 'free'
  readonly out?: NodeJS.WritableStream
}

export const FIXED_PORTS = { authorizationServer: 8443 } as const

export interface RunningStack {
  readonly issuer: string
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
    // The issuer URL names the port, so listen first and install the handler once it is known.
    let asHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
    const asListener: Listening = await listenHttps(
      (req, res) => {
        if (asHandler === undefined) {
          res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' })
          res.end(
            JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }),
          )
          return
        }
        asHandler(req, res)
      },
      tls.server,
      port(FIXED_PORTS.authorizationServer),
    )
    closers.push(asListener.close)
    const issuer = `https://localhost:${asListener.port}`
    const as = await startDevAuthorizationServer(workspace, issuer, (error) =>
      asLog.error(
        {
          err:
            error instanceof Error ? { type: error.name, message: error.message } : String(error),
        },
        'internal error',
      ),
    )
    closers.push(as.close)
    workspace = as.workspace
    asHandler = as.server.handler
    as.server.events.audit.subscribe({
      write: (event) => asLog.info({ audit: event }, event.type),
    })

    const summary = [
      '',
      'Gatehouse is running.',
      '',
      `  authorization server  ${issuer}`,
      `    discovery           ${issuer}/.well-known/openid-configuration`,
      `  local CA certificate  ${relative(process.cwd(), tls.caCertFile) || tls.caCertFile}`,
      '',
      '  demo clients:',
      ...DEMO_CLIENTS.map(
        (client) =>
          `    ${client.clientId.padEnd(20)} secret ${workspace.secrets.clientSecrets[client.clientId] ?? '(none)'}  — ${client.purpose}`,
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
      '  try:',
      `    curl --cacert ${relative(process.cwd(), tls.caCertFile)} -u demo-partner:${workspace.secrets.clientSecrets['demo-partner'] ?? '…'} \\`,
      `         -d grant_type=client_credentials -d scope=orders:read ${issuer}/token`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ]
    out.write(`${summary.join('\n')}\n`)
    log.info({ issuer }, 'dev stack started')
    return {
      issuer,
      async close() {
        for (const close of closers.reverse()) await close().catch(() => {})
      },
    }
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {})
    throw error
  }
}
