import type { AuthorizationServerConfig } from './schema.js'

/** A weak-but-allowed setting: printed once at start-up, with a stable code (STYLE §4). */
export interface ConfigWarning {
  readonly code: string
  readonly setting: string
  readonly message: string
}

/** The weak-but-allowed choices in a validated configuration. */
export function configWarnings(config: AuthorizationServerConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = []
  const warn = (code: string, setting: string, message: string) =>
    warnings.push({ code, setting, message })
  if (config.keys.algorithm === 'RS256' || config.keys.algorithm === 'PS256') {
    warn('AS_W001', 'keys.algorithm', 'RSA signing is several times slower than ES256 or EdDSA')
  }
  if (!config.keys.rotation.enabled) {
    warn('AS_W002', 'keys.rotation.enabled', 'signing keys are never rotated on a schedule')
  }
  if (config.keys.jwksMaxAgeSeconds === 0) {
    warn('AS_W003', 'keys.jwksMaxAgeSeconds', 'verifiers will refetch the JWKS on every request')
  }
  if (config.tokens.accessTokenTtlSeconds > 3_600) {
    warn('AS_W004', 'tokens.accessTokenTtlSeconds', 'access tokens live longer than an hour')
  }
  if (config.tokens.refreshTokenTtlSeconds > 90 * 86_400) {
    warn(
      'AS_W005',
      'tokens.refreshTokenTtlSeconds',
      'refresh-token families live longer than 90 days',
    )
  }
  if (config.login.maxFailedAttempts > 10) {
    warn(
      'AS_W006',
      'login.maxFailedAttempts',
      'more than 10 failed logins are allowed before the lock',
    )
  }
  if (config.introspection.allowedClients === undefined) {
    warn(
      'AS_W008',
      'introspection.allowedClients',
      'every confidential client may introspect the access tokens of other clients',
    )
  }
  if (config.login.sessionTtlSeconds > 86_400) {
    warn('AS_W007', 'login.sessionTtlSeconds', 'login sessions live longer than a day')
  }
  return warnings
}
