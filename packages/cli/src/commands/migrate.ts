import { parseArgs } from 'node:util'
import { loadGatehouseConfig } from '../config/load.js'
import { secretContextFor } from '../runtime/context.js'
import { exitTwoOnConfigError, RuntimeConfigError } from '../runtime/errors.js'
import { migrateStore, resolveStore } from '../runtime/store.js'

export const MIGRATE_USAGE = `  gatehouse migrate --config gatehouse.yaml
      Apply the store's pending versioned migrations (SQLite or PostgreSQL) and list them.
`

/** `gatehouse migrate`: prints each migration it applied, or that the store is up to date. */
export async function runMigrate(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  })
  if (values.config === undefined) throw new RuntimeConfigError('--config', 'is required')
  const loaded = await loadGatehouseConfig(values.config)
  if (loaded.settings.store === undefined) {
    throw new RuntimeConfigError('store', 'is missing from the configuration')
  }
  const report = await migrateStore(
    resolveStore(loaded.settings.store, secretContextFor(values.config)),
  )
  if (report.applied.length === 0) {
    out.write(`${report.store}: up to date, no migration applied\n`)
    return 0
  }
  out.write(`${report.store}: applied ${report.applied.length} migration(s)\n`)
  for (const migration of report.applied) {
    out.write(`  ${migration.version}${migration.name === null ? '' : ` ${migration.name}`}\n`)
  }
  return 0
}

export function migrateCommand(
  args: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  return exitTwoOnConfigError(() => runMigrate(args, io.stdout), io.stderr)
}
