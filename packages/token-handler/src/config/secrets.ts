import { webcrypto } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { CookieKey } from '../core/cookie-crypto.js'
import type { SecretReference, TokenHandlerConfig } from './schema.js'

export interface SecretSources {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly readFile?: (path: string) => string
}

/** The token handler's secrets, resolved from the configuration's references. */
export interface TokenHandlerSecrets {
  readonly cookieKeys: readonly CookieKey[]
  /** For `client_secret_basic`. */
  readonly clientSecret?: string
  /** For `private_key_jwt`. */
  readonly clientPrivateKey?: webcrypto.CryptoKey
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

/** Decodes a base64 or base64url cookie key and checks it is exactly 32 bytes. */
export function decodeCookieKey(encoded: string, key: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(encoded)) {
    throw new ConfigError(key, 'must be base64 or base64url')
  }
  const bytes = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.byteLength !== 32) {
    throw new ConfigError(key, `must decode to 32 bytes, got ${bytes.byteLength}`)
  }
  return bytes
}

const IMPORT_PARAMETERS = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
} as const

/** Resolves the secret references of the configuration (callers: the CLI, tests). */
export async function resolveTokenHandlerSecrets(
  config: TokenHandlerConfig,
  sources: SecretSources,
): Promise<TokenHandlerSecrets> {
  const cookieKeys = config.cookies.keys.map((entry, index) => {
    const name = `cookies.keys[${index}].key`
    return { id: entry.id, key: decodeCookieKey(resolve(entry.key, name, sources), name) }
  })
  const auth = config.client.authentication
  if (auth.method === 'client_secret_basic') {
    const clientSecret = resolve(auth.secret, 'client.authentication.secret', sources)
    return { cookieKeys, clientSecret }
  }
  const pem = resolve(auth.privateKey, 'client.authentication.privateKey', sources)
  const match = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem)
  if (match?.[1] === undefined) {
    throw new ConfigError('client.authentication.privateKey', 'must be a PKCS #8 PEM private key')
  }
  try {
    const clientPrivateKey = await webcrypto.subtle.importKey(
      'pkcs8',
      Buffer.from(match[1].replace(/\s/g, ''), 'base64'),
      IMPORT_PARAMETERS[auth.algorithm],
      false,
      ['sign'],
    )
    return { cookieKeys, clientPrivateKey }
  } catch {
    throw new ConfigError(
      'client.authentication.privateKey',
      `is not a ${auth.algorithm} private key`,
    )
  }
}
