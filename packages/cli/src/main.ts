#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { AUDIT_USAGE, runAudit } from './commands/audit.js'
import { CLIENTS_USERS_USAGE, clientsCommand, usersCommand } from './commands/clients-users.js'
import { KEYS_USAGE, keysCommand } from './commands/keys.js'
import { MIGRATE_USAGE, migrateCommand } from './commands/migrate.js'
import { SERVE_USAGE, serveCommand } from './commands/serve.js'
import { startDevStack } from './commands/start.js'
import { startDistributedDevStack } from './dev-stack/distributed.js'

const HELP = `gatehouse — the Gatehouse API security platform

Usage:
  gatehouse start [--dir .gatehouse] [--ports fixed|free] [--distributed]
      Run the platform on this machine: a local CA and certificates, the authorization server
      (SQLite) with demo clients and users. State lives in --dir and is reused by the next start.
      --distributed: two authorization servers (PostgreSQL, GATEHOUSE_POSTGRES_URL) and two
      gateways (Redis, GATEHOUSE_REDIS_URL), each pair behind a round-robin front; no SPA.
${SERVE_USAGE}${MIGRATE_USAGE}${KEYS_USAGE}${CLIENTS_USERS_USAGE}${AUDIT_USAGE.replace(/^Usage:\n/, '')}  gatehouse help
      Show this help.
`

class UsageError extends Error {}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string', default: '.gatehouse' },
      ports: { type: 'string', default: 'fixed' },
      distributed: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.ports !== 'fixed' && values.ports !== 'free')
    throw new UsageError('--ports must be "fixed" or "free"')
  const stack = values.distributed
    ? await startDistributedDevStack({ dir: values.dir, ports: values.ports })
    : await startDevStack({ dir: values.dir, ports: values.ports })
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stdout.write(`\n${signal}: stopping Gatehouse…\n`)
    stack.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'start':
        await start(rest)
        return 0
      case 'serve':
        return await serveCommand(rest, process.stderr)
      case 'migrate':
        return await migrateCommand(rest, { stdout: process.stdout, stderr: process.stderr })
      case 'keys':
        return await keysCommand(rest, { stdout: process.stdout, stderr: process.stderr })
      case 'clients':
        return await clientsCommand(rest, { stdout: process.stdout, stderr: process.stderr })
      case 'users':
        return await usersCommand(rest, { stdout: process.stdout, stderr: process.stderr })
      case 'audit':
        return await runAudit(rest, { stdout: process.stdout, stderr: process.stderr })
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP)
        return 0
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError &&
        'code' in error &&
        String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`gatehouse: ${error.message}\n\n${HELP}`)
      return 2
    }
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`gatehouse: ${message}\n`)
    return 1
  }
}

// exitCode rather than exit(): long audit output is not cut off before it is flushed.
process.exitCode = await main(process.argv.slice(2))
