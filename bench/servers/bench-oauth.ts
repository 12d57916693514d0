/**
 * What both authorization servers of the `authorization-server` suite are configured with, and
 * what the gateway suite's phantom route expects: the same clients, scope and audience.
 */
export const BENCH_AUDIENCE = 'https://api.bench.test/orders'
export const BENCH_SCOPE = 'orders:read'

/** client_credentials, client_secret_basic, opaque access tokens. */
export const OPAQUE_CLIENT = 'bench-opaque'
/** client_credentials, client_secret_basic, RFC 9068 JWT access tokens signed with ES256. */
export const JWT_CLIENT = 'bench-jwt'
/** The resource (or gateway) that introspects tokens, authenticated with client_secret_basic. */
export const INTROSPECTION_CLIENT = 'bench-introspector'

/** The first stdout line of an authorization-server child: where it is and its client secrets. */
export interface AuthorizationServerReady {
  readonly port: number
  readonly issuer: string
  /** client id → secret. */
  readonly clientSecrets: Readonly<Record<string, string>>
  /** How the server stores tokens, in words, for the report. */
  readonly store: string
}

export function tlsFilesFromEnv(): { cert: string; key: string } {
  const cert = process.env.GATEHOUSE_BENCH_TLS_CERT_FILE
  const key = process.env.GATEHOUSE_BENCH_TLS_KEY_FILE
  if (cert === undefined || key === undefined) {
    throw new Error('GATEHOUSE_BENCH_TLS_CERT_FILE and GATEHOUSE_BENCH_TLS_KEY_FILE must be set')
  }
  return { cert, key }
}
