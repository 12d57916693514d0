/**
 * Keys and RFC 9068 access tokens for the JWT suite, made with jose. The bench makes its own
 * rather than importing `@gatehouse/jwt`'s test support, which is not part of the package.
 */
import { randomUUID } from 'node:crypto'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

export type BenchAlgorithm = 'ES256' | 'RS256' | 'EdDSA'

export const BENCH_ISSUER = 'https://issuer.bench.gatehouse.test'
export const BENCH_AUDIENCE = 'https://api.bench.gatehouse.test/orders'

export interface BenchKey {
  readonly alg: BenchAlgorithm
  readonly kid: string
  readonly privateKey: CryptoKey
  /** The CryptoKey raw jose verifies with. */
  readonly publicKey: CryptoKey
  /** The same public key as a JWK, for the validator's local key set. */
  readonly publicJwk: JWK
}

export async function createBenchKey(alg: BenchAlgorithm): Promise<BenchKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, {
    extractable: true,
  })
  const kid = `bench-${alg}`
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicKey, publicJwk }
}

/** Signs `count` distinct access tokens (distinct `jti` and `sub`), valid for an hour. */
export async function signTokens(key: BenchKey, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000)
  const tokens: string[] = []
  for (let index = 0; index < count; index++) {
    tokens.push(
      await new SignJWT({
        client_id: 'bench-client',
        scope: 'orders:read orders:write profile',
      })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .setIssuer(BENCH_ISSUER)
        .setAudience(BENCH_AUDIENCE)
        .setSubject(`user-${index}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .setJti(randomUUID())
        .sign(key.privateKey),
    )
  }
  return tokens
}
