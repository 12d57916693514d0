import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { testConfigInput } from '../test-support/harness.js'
import { parseTokenHandlerConfig, TokenHandlerConfigSchema } from './schema.js'
import { ConfigError, resolveTokenHandlerSecrets } from './secrets.js'

function issuesOf(input: unknown): string[] {
  const result = TokenHandlerConfigSchema.safeParse(input)
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'))
}

describe('token handler configuration', () => {
  it('parses, applies defaults and freezes', () => {
    const config = parseTokenHandlerConfig(testConfigInput())
    expect(config.cookies.namePrefix).toBe('gatehouse')
    expect(config.cookies.apiPath).toBe('/')
    expect(config.csrf.headerName).toBe('x-gatehouse-csrf')
    expect(config.session).toEqual({ absoluteLifetimeSeconds: 1_209_600, loginTimeoutSeconds: 600 })
    expect(config.pushedAuthorizationRequests.enabled).toBe(true)
    expect(config.endSession.idTokenHint).toBe(false)
    expect(Object.isFrozen(config.cookies.keys)).toBe(true)
  })

  it('refuses unknown keys', () => {
    expect(issuesOf({ ...testConfigInput(), cookieSecret: 'x' })).toEqual([''])
    expect(
      issuesOf(testConfigInput({ csrf: { headerName: 'x-csrf', enabled: false } as never })),
    ).toEqual(['csrf'])
  })

  it('refuses a current key id that is not configured, and duplicate key ids', () => {
    const base = testConfigInput()
    expect(issuesOf({ ...base, cookies: { ...base.cookies, currentKeyId: 'k2' } })).toEqual([
      'cookies.currentKeyId',
    ])
    const key = { id: 'k1', key: { env: 'A' } }
    expect(issuesOf({ ...base, cookies: { keys: [key, key], currentKeyId: 'k1' } })).toEqual([
      'cookies.keys',
    ])
  })

  it('refuses origins with paths or trailing slashes, http origins, and a redirect URI off them', () => {
    expect(issuesOf(testConfigInput({ allowedOrigins: ['https://app.test/'] }))).toContain(
      'allowedOrigins.0',
    )
    expect(
      issuesOf(testConfigInput({ allowedOrigins: ['https://app.test', 'http://app.test'] })),
    ).toEqual(['allowedOrigins.1'])
    expect(issuesOf(testConfigInput({ redirectUri: 'https://other.test/callback' }))).toEqual([
      'redirectUri',
    ])
  })

  it('refuses a non-https issuer, a scope without openid, and reserved authorization parameters', () => {
    expect(
      issuesOf(testConfigInput({ authorizationServer: { issuer: 'http://as.test' } })),
    ).toEqual(['authorizationServer.issuer'])
    expect(issuesOf(testConfigInput({ scope: 'profile' }))).toEqual(['scope'])
    expect(issuesOf(testConfigInput({ authorizationParameters: { state: 'fixed' } }))).toEqual([
      'authorizationParameters.state',
    ])
  })

  it('emits JSON Schema for the docs', async () => {
    const { z } = await import('zod')
    const schema = z.toJSONSchema(TokenHandlerConfigSchema, { io: 'input' }) as {
      properties: Record<string, unknown>
    }
    expect(Object.keys(schema.properties)).toContain('cookies')
  })
})

describe('secret resolution', () => {
  const config = parseTokenHandlerConfig(testConfigInput())
  const key = randomBytes(32)

  it('resolves the cookie keys (base64 or base64url) and the client secret', async () => {
    for (const encoded of [key.toString('base64'), key.toString('base64url')]) {
      const secrets = await resolveTokenHandlerSecrets(config, {
        env: { COOKIE_KEY: encoded, CLIENT_SECRET: 's3cret' },
      })
      expect(Buffer.from(secrets.cookieKeys[0]?.key ?? []).equals(key)).toBe(true)
      expect(secrets.clientSecret).toBe('s3cret')
    }
  })

  it('refuses a cookie key that is not 32 bytes, or missing', async () => {
    await expect(
      resolveTokenHandlerSecrets(config, {
        env: { COOKIE_KEY: randomBytes(16).toString('base64'), CLIENT_SECRET: 's' },
      }),
    ).rejects.toThrow(/cookies.keys\[0\].key: must decode to 32 bytes, got 16/)
    await expect(
      resolveTokenHandlerSecrets(config, { env: { CLIENT_SECRET: 's' } }),
    ).rejects.toBeInstanceOf(ConfigError)
    await expect(
      resolveTokenHandlerSecrets(config, {
        env: { COOKIE_KEY: 'not base64!', CLIENT_SECRET: 's' },
      }),
    ).rejects.toThrow(/base64/)
  })

  it('imports a private_key_jwt key, and refuses one of the wrong type', async () => {
    const pkjwt = parseTokenHandlerConfig(
      testConfigInput({
        client: {
          id: 'spa-agent',
          authentication: { method: 'private_key_jwt', privateKey: { env: 'PK' } },
        },
      }),
    )
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const pem = ec.export({ format: 'pem', type: 'pkcs8' }).toString()
    const secrets = await resolveTokenHandlerSecrets(pkjwt, {
      env: { COOKIE_KEY: key.toString('base64'), PK: pem },
    })
    expect(secrets.clientPrivateKey?.algorithm.name).toBe('ECDSA')
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' })
    await expect(
      resolveTokenHandlerSecrets(pkjwt, {
        env: { COOKIE_KEY: key.toString('base64'), PK: ed.toString() },
      }),
    ).rejects.toThrow(/is not a ES256 private key/)
  })
})
