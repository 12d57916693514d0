/**
 * Test support: an issuer that makes keys and signs access tokens with jose, so tests can build
 * every kind of good and bad token. Never part of the published package (excluded from the build).
 */
import { randomUUID } from 'node:crypto'
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose'

export type TestAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA' | 'ES384'

export interface TestKey {
  readonly kid: string
  readonly alg: TestAlgorithm
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

export const TEST_ISSUER = 'https://issuer.test'
export const TEST_AUDIENCE = 'https://api.test/orders'

export async function createTestKey(
  alg: TestAlgorithm = 'ES256',
  kid: string = `${alg}-${randomUUID()}`,
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, {
    extractable: true,
  })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicKey, publicJwk }
}

export interface SignOptions {
  readonly header?: Record<string, unknown>
  /** Claims merged over the defaults; a claim set to `undefined` is removed. */
  readonly claims?: Record<string, unknown>
  readonly now?: number
}

/** Signs an RFC 9068 access token: typ at+jwt, iss, aud, sub, client_id, scope, iat, exp (+5 min), jti. */
export async function signAccessToken(key: TestKey, options: SignOptions = {}): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  const claims: Record<string, unknown> = {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    sub: 'user-1',
    client_id: 'client-1',
    scope: 'orders:read profile',
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...options.claims,
  }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header })
    .sign(key.privateKey)
}

/** Builds a compact JWS from raw parts, for tokens jose refuses to make (alg none, HS256, …). */
export function rawToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  signature = '',
): string {
  const encode = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
  return `${encode(header)}.${encode(payload)}.${signature}`
}

export function defaultClaims(now = Date.now()): Record<string, unknown> {
  const seconds = Math.floor(now / 1000)
  return {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    sub: 'user-1',
    client_id: 'client-1',
    scope: 'orders:read',
    iat: seconds,
    exp: seconds + 300,
  }
}
