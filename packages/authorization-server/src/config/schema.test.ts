import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { AuthorizationServerConfigSchema, parseAuthorizationServerConfig } from './schema.js'
import { ConfigError, resolveSecrets } from './secrets.js'

const minimal = { issuer: 'https://as.example', keys: { encryptionKey: { env: 'KEK' } } }

describe('authorization server configuration', () => {
  it('fills defaults and freezes the result', () => {
    const config = parseAuthorizationServerConfig(minimal)
    expect(config.keys).toMatchObject({
      algorithm: 'ES256',
      jwksMaxAgeSeconds: 300,
      rotation: { enabled: true },
    })
    expect(config.tokens.accessTokenTtlSeconds).toBe(600)
    expect(Object.isFrozen(config.tokens)).toBe(true)
  })

  it.each([
    ['an unknown key', { ...minimal, extra: 1 }],
    ['an unknown nested key', { ...minimal, tokens: { accessTokenTTL: 5 } }],
    ['an http issuer', { ...minimal, issuer: 'http://as.example' }],
    ['an issuer with a query', { ...minimal, issuer: 'https://as.example/?a=1' }],
    ['a secret given as a value', { ...minimal, keys: { encryptionKey: 'inline-secret' } }],
    ['a weak algorithm', { ...minimal, keys: { ...minimal.keys, algorithm: 'HS256' } }],
    [
      'a too long access token lifetime',
      { ...minimal, tokens: { accessTokenTtlSeconds: 999_999 } },
    ],
    ['a malformed scope name', { ...minimal, scopes: { 'a b': {} } }],
  ])('refuses %s', (_name, input) => {
    expect(() => parseAuthorizationServerConfig(input)).toThrow(z.ZodError)
  })

  it('resolves the key-encryption key from the environment or a file and checks its length', () => {
    const config = parseAuthorizationServerConfig(minimal)
    const key = randomBytes(32)
    expect(
      resolveSecrets(config, { env: { KEK: key.toString('base64url') } }).keyEncryptionKey,
    ).toEqual(key)
    expect(
      resolveSecrets(config, { env: { KEK: key.toString('base64') } }).keyEncryptionKey,
    ).toEqual(key)
    expect(() => resolveSecrets(config, { env: {} })).toThrow(ConfigError)
    expect(() =>
      resolveSecrets(config, { env: { KEK: randomBytes(16).toString('base64') } }),
    ).toThrow(/32 bytes/)
    const fromFile = parseAuthorizationServerConfig({
      ...minimal,
      keys: { encryptionKey: { file: '/kek' } },
    })
    expect(
      resolveSecrets(fromFile, { env: {}, readFile: () => `${key.toString('base64')}\n` })
        .keyEncryptionKey,
    ).toEqual(key)
    expect(() =>
      resolveSecrets(fromFile, {
        env: {},
        readFile: () => {
          throw new Error('ENOENT')
        },
      }),
    ).toThrow(ConfigError)
  })

  it('is documented key by key in docs/authorization-server.md', () => {
    const docs = readFileSync(
      new URL('../../../../docs/authorization-server.md', import.meta.url),
      'utf8',
    )
    const schema = z.toJSONSchema(AuthorizationServerConfigSchema, { io: 'input' }) as JsonSchema
    const keys: string[] = []
    collectKeys(schema, '', keys)
    expect(keys.length).toBeGreaterThan(15)
    for (const key of keys)
      expect(docs, `docs/authorization-server.md lacks \`${key}\``).toContain(`\`${key}\``)
  })
})

interface JsonSchema {
  properties?: Record<string, JsonSchema>
  additionalProperties?: unknown
}

function collectKeys(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const key = prefix === '' ? name : `${prefix}.${name}`
    // Secret references and the scope map are documented as a whole.
    if (key === 'keys.encryptionKey' || key === 'scopes' || child.properties === undefined) {
      out.push(key)
      continue
    }
    collectKeys(child, key, out)
  }
}
