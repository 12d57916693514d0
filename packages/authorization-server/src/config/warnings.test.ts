import { describe, expect, it } from 'vitest'
import { parseAuthorizationServerConfig } from './schema.js'
import { configWarnings } from './warnings.js'

const base = { issuer: 'https://as.example', keys: { encryptionKey: { env: 'K' } } }

describe('configuration warnings', () => {
  it('has only the open-introspection one for the defaults', () => {
    expect(
      configWarnings(parseAuthorizationServerConfig(base)).map((warning) => warning.code),
    ).toEqual(['AS_W008'])
    const closed = parseAuthorizationServerConfig({
      ...base,
      introspection: { allowedClients: ['gateway'] },
    })
    expect(configWarnings(closed)).toEqual([])
  })

  it('names every weak-but-allowed setting with a stable code', () => {
    const config = parseAuthorizationServerConfig({
      ...base,
      keys: {
        ...base.keys,
        algorithm: 'RS256',
        jwksMaxAgeSeconds: 0,
        rotation: { enabled: false },
      },
      tokens: { accessTokenTtlSeconds: 7_200, refreshTokenTtlSeconds: 180 * 86_400 },
      login: { maxFailedAttempts: 50, sessionTtlSeconds: 7 * 86_400 },
      introspection: { allowedClients: ['gateway'] },
    })
    expect(configWarnings(config).map((warning) => [warning.code, warning.setting])).toEqual([
      ['AS_W001', 'keys.algorithm'],
      ['AS_W002', 'keys.rotation.enabled'],
      ['AS_W003', 'keys.jwksMaxAgeSeconds'],
      ['AS_W004', 'tokens.accessTokenTtlSeconds'],
      ['AS_W005', 'tokens.refreshTokenTtlSeconds'],
      ['AS_W006', 'login.maxFailedAttempts'],
      ['AS_W007', 'login.sessionTtlSeconds'],
    ])
  })
})
