import { parseArgs } from 'node:util'
import { KeyRotationTooEarly, listKeys, rotateKeys } from '@gatehouse/authorization-server'
import { loadGatehouseConfig } from '../config/load.js'
import { resolveAuthorizationServerSecrets } from '../runtime/authorization-server.js'
import { secretContextFor } from '../runtime/context.js'
import { exitTwoOnConfigError, RuntimeConfigError } from '../runtime/errors.js'
import { openStore, resolveStore } from '../runtime/store.js'

export const KEYS_USAGE = `  gatehouse keys list|rotate --config gatehouse.yaml [--json] [--force]
      The authorization server's signing keys, read from the store: list them (public parts and
      lifecycle), or rotate (the published next key starts signing; --force before it has been
      published for the JWKS max-age, after a key compromise).
`

/** `gatehouse keys list|rotate`, against the store directly (no running server needed). */
export async function runKeys(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  })
  const action = positionals[0]
  if ((action !== 'list' && action !== 'rotate') || positionals.length > 1) {
    throw new RuntimeConfigError('keys', 'name one action: list or rotate')
  }
  if (values.config === undefined) throw new RuntimeConfigError('--config', 'is required')
  const loaded = await loadGatehouseConfig(values.config)
  const config = loaded.settings.authorizationServer
  if (config === undefined || loaded.settings.store === undefined) {
    throw new RuntimeConfigError('authorizationServer', 'is missing from the configuration')
  }
  const context = secretContextFor(values.config)
  const store = await openStore(resolveStore(loaded.settings.store, context))
  try {
    if (action === 'list') {
      const keys = await listKeys(store)
      if (values.json) {
        out.write(`${JSON.stringify(keys, null, 2)}\n`)
        return 0
      }
      if (keys.length === 0)
        out.write('no signing keys yet (the server makes them on first start)\n')
      for (const key of keys) {
        const when = (name: string) =>
          typeof key[name] === 'number' ? new Date(key[name] as number).toISOString() : '-'
        out.write(
          `${String(key.kid).padEnd(36)} ${String(key.alg).padEnd(6)} ${String(key.state).padEnd(8)} created ${when('createdAt')}  activated ${when('activatedAt')}  retired ${when('retiredAt')}\n`,
        )
      }
      return 0
    }
    const secrets = resolveAuthorizationServerSecrets(config, context)
    try {
      const result = await rotateKeys(store, config, secrets, { force: values.force })
      if (values.json) out.write(`${JSON.stringify(result)}\n`)
      else
        out.write(
          `rotated: ${result.activated} now signs; ${result.retired ?? 'no key'} retired; ${result.published} published as next\n`,
        )
      return 0
    } catch (error) {
      if (!(error instanceof KeyRotationTooEarly)) throw error
      throw new Error(`${error.message} (use --force only after a key compromise)`)
    }
  } finally {
    await store.close()
  }
}

export function keysCommand(
  args: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  return exitTwoOnConfigError(() => runKeys(args, io.stdout), io.stderr)
}
