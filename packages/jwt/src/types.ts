import type { CryptoKey } from 'jose'

/** The protected header of a JWS, as far as `@gatehouse/jwt` reads it. */
export interface JwtHeader {
  readonly alg: string
  readonly kid?: string
  readonly typ?: string
  readonly [parameter: string]: unknown
}

/** The claims of an RFC 9068 JWT access token, plus whatever the issuer's scopes release. */
export interface AccessTokenClaims {
  readonly iss: string
  readonly exp: number
  readonly aud: string | readonly string[]
  readonly sub?: string
  readonly client_id?: string
  readonly iat?: number
  readonly nbf?: number
  readonly jti?: string
  readonly scope?: string
  readonly [claim: string]: unknown
}

/** What a successful `validate()` resolves to. Frozen: shared safely by the verified-token cache. */
export interface VerifiedToken {
  readonly header: JwtHeader
  readonly claims: AccessTokenClaims
  /** The granted scopes, from the space-delimited `scope` claim (RFC 9068 §2.2.3). */
  readonly scopes: ReadonlySet<string>
  readonly subject: string | undefined
  readonly clientId: string | undefined
  /** The token's `jti`, the key that joins audit events across the platform. */
  readonly tokenId: string | undefined
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number
}

/** A source of verification keys: local (`createLocalJwks`) or an issuer's JWKS (`createRemoteJwks`). */
export interface KeySet {
  /**
   * Resolves the public key for a token's header, whose `alg` the caller has already checked
   * against its allow-list. Only `kid` and `alg` are read: `jku`, `x5u`, `x5c` and `jwk` never are.
   * Rejects with `UnknownKeyId`, `KeyAlgorithmMismatch` or `KeySetUnavailable`.
   */
  getKey(header: JwtHeader): Promise<CryptoKey>
  /**
   * The same key when it is at hand without I/O or waiting (known kid, already imported, cache
   * fresh); `undefined` means "ask `getKey`". Never throws: refusals come from `getKey`.
   */
  getKeySync?(header: JwtHeader): CryptoKey | undefined
}

/** The subset of a pino-style logger that `@gatehouse/jwt` writes to. */
export interface Logger {
  warn(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
}

/** Asymmetric JWS algorithms `@gatehouse/jwt` can verify. `none` and `HS*` are never accepted. */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number]

/** RS256, PS256, ES256 and EdDSA: what a validator accepts unless told otherwise. */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA']
