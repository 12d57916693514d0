import type { AuditContext } from '../findings.js'

const HOUR = 3_600
const DAY = 86_400

/** GH-JWKS-*, GH-TTL-*, GH-KEYS-001, GH-LOGIN-001: the authorization server's own settings. */
export function checkAuthorizationServer({ config, report }: AuditContext): void {
  const server = config.authorizationServer
  if (server === undefined) return
  const keys = ['authorizationServer', 'keys'] as const
  if (server.keys.jwksMaxAgeSeconds === 0) {
    report('GH-JWKS-001', [...keys, 'jwksMaxAgeSeconds'], 'the JWKS is served with max-age 0')
  } else if (server.keys.jwksMaxAgeSeconds < 60) {
    report(
      'GH-JWKS-002',
      [...keys, 'jwksMaxAgeSeconds'],
      `the JWKS is cached for ${server.keys.jwksMaxAgeSeconds} s only`,
    )
  }
  if (!server.keys.rotation.enabled) {
    report('GH-KEYS-001', [...keys, 'rotation', 'enabled'], 'signing keys never rotate')
  }
  if (server.keys.algorithm === 'RS256') {
    report('GH-ALG-002', [...keys, 'algorithm'], 'tokens are signed with RS256')
  }
  const tokens = ['authorizationServer', 'tokens'] as const
  if (server.tokens.accessTokenTtlSeconds > HOUR) {
    report(
      'GH-TTL-001',
      [...tokens, 'accessTokenTtlSeconds'],
      `access tokens live ${describe(server.tokens.accessTokenTtlSeconds)}`,
    )
  }
  if (server.tokens.refreshTokenTtlSeconds > 30 * DAY) {
    report(
      'GH-TTL-002',
      [...tokens, 'refreshTokenTtlSeconds'],
      `refresh tokens live ${describe(server.tokens.refreshTokenTtlSeconds)}`,
    )
  }
  if (server.tokens.idTokenTtlSeconds > HOUR) {
    report(
      'GH-TTL-003',
      [...tokens, 'idTokenTtlSeconds'],
      `ID tokens live ${describe(server.tokens.idTokenTtlSeconds)}`,
    )
  }
  if (server.login.sessionTtlSeconds > DAY) {
    report(
      'GH-TTL-004',
      ['authorizationServer', 'login', 'sessionTtlSeconds'],
      `login sessions last ${describe(server.login.sessionTtlSeconds)}`,
    )
  }
  if (server.login.maxFailedAttempts > 10) {
    report(
      'GH-LOGIN-001',
      ['authorizationServer', 'login', 'maxFailedAttempts'],
      `the lockout starts after ${server.login.maxFailedAttempts} failed attempts`,
    )
  }
}

/** `90000 s (25 h)`: the number as written, and a human reading of it. */
export function describe(seconds: number): string {
  const human =
    seconds >= DAY
      ? `${Math.round((seconds / DAY) * 10) / 10} days`
      : `${Math.round((seconds / HOUR) * 10) / 10} h`
  return `${seconds} s (${human})`
}
