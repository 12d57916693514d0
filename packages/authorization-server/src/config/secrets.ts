import { readFileSync } from 'node:fs'
import type { AuthorizationServerConfig, SecretReference } from './schema.js'

export interface SecretSources {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly readFile?: (path: string) => string
}

export interface AuthorizationServerSecrets {
  /** AES-256-GCM key for private signing keys and TOTP secrets at rest. */
  readonly keyEncryptionKey: Uint8Array
}

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`)
    this.name = 'ConfigError'
  }
}

function resolve(ref: SecretReference, key: string, sources: SecretSources): string {
  if ('env' in ref) {
    const value = sources.env[ref.env]
    if (value === undefined || value === '') {
      throw new ConfigError(key, `environment variable ${ref.env} is not set`)
    }
    return value.trim()
  }
  try {
    return (sources.readFile ?? ((path) => readFileSync(path, 'utf8')))(ref.file).trim()
  } catch {
    throw new ConfigError(key, `cannot read secret file ${ref.file}`)
  }
}

/** Resolves the secret references of the configuration (callers: the CLI, tests). */
export function resolveSecrets(
  config: AuthorizationServerConfig,
  sources: SecretSources,
): AuthorizationServerSecrets {
  const encoded = resolve(config.keys.encryptionKey, 'keys.encryptionKey', sources)
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(encoded)) {
    throw new ConfigError('keys.encryptionKey', 'must be base64 or base64url')
  }
  const key = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (key.byteLength !== 32) {
    throw new ConfigError('keys.encryptionKey', `must decode to 32 bytes, got ${key.byteLength}`)
  }
  return { keyEncryptionKey: key }
}
