import { type CryptoKey, importJWK, type JWK } from 'jose'
import { KeyAlgorithmMismatch, UnknownKeyId } from '../errors.js'
import type { JwtHeader, Logger } from '../types.js'

/**
 * A parsed JWK Set: public signing keys by `kid`, each bound to the algorithms its `kty`/`crv`
 * (and `alg`, when the JWK names one) allow. Imported `CryptoKey`s are memoised per algorithm.
 */
export interface KeyIndex {
  readonly size: number
  readonly kids: readonly string[]
  select(header: JwtHeader): Promise<CryptoKey>
  /** The imported key for a kid and alg that `select` has already resolved once, else undefined. */
  selectSync(header: JwtHeader): CryptoKey | undefined
  has(kid: string): boolean
}

interface KeyEntry {
  readonly kid: string | undefined
  readonly jwk: JWK
  readonly algorithms: ReadonlySet<string>
  readonly imported: Map<string, Promise<CryptoKey>>
  readonly ready: Map<string, CryptoKey>
}

// RFC 7518 §3 and RFC 8037 §3.1 (+ RFC 9864 "Ed25519"): the key type each JWS algorithm needs.
const ALGORITHMS_FOR_KEY: Readonly<Record<string, readonly string[]>> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'EC:P-256': ['ES256'],
  'EC:P-384': ['ES384'],
  'EC:P-521': ['ES512'],
  'OKP:Ed25519': ['EdDSA', 'Ed25519'],
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

export const MAX_KID_LENGTH = 256

function keyTypeOf(jwk: JWK): string {
  return jwk.kty === 'RSA' ? 'RSA' : `${jwk.kty}:${jwk.crv}`
}

/** Checks one JWK from a set; returns why it cannot be used to verify, or undefined when it can. */
function unusableBecause(jwk: JWK): string | undefined {
  if (typeof jwk.kty !== 'string') return 'no kty'
  if (jwk.kty === 'oct') return 'symmetric keys are never used to verify (HS* is not allowed)'
  if (ALGORITHMS_FOR_KEY[keyTypeOf(jwk)] === undefined)
    return `unsupported key type ${keyTypeOf(jwk)}`
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > MAX_KID_LENGTH))
    return 'invalid kid'
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use is "${String(jwk.use)}", not "sig"`
  if (
    jwk.key_ops !== undefined &&
    (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify'))
  ) {
    return 'key_ops does not include "verify"'
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return 'it contains private key material'
  if (jwk.alg !== undefined && !ALGORITHMS_FOR_KEY[keyTypeOf(jwk)]?.includes(jwk.alg)) {
    return `its alg ${String(jwk.alg)} does not fit its key type`
  }
  return undefined
}

/**
 * Builds an index from a JWK Set document. Unusable keys are skipped (and logged) rather than
 * failing the whole set, so one odd key at the issuer does not take every API down.
 * Throws `TypeError` when the document is not a JWK Set at all.
 */
export function createKeyIndex(jwks: unknown, logger?: Logger): KeyIndex {
  if (
    typeof jwks !== 'object' ||
    jwks === null ||
    !Array.isArray((jwks as { keys?: unknown }).keys)
  ) {
    throw new TypeError('a JWK Set must be an object with a "keys" array')
  }
  const byKid = new Map<string, KeyEntry>()
  const all: KeyEntry[] = []
  for (const candidate of (jwks as { keys: unknown[] }).keys) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) continue
    const jwk = candidate as JWK
    const problem = unusableBecause(jwk)
    if (problem !== undefined) {
      logger?.warn(
        { kid: typeof jwk.kid === 'string' ? jwk.kid.slice(0, 64) : undefined },
        `JWKS key skipped: ${problem}`,
      )
      continue
    }
    const kid = jwk.kid
    if (kid !== undefined && byKid.has(kid)) {
      logger?.warn({ kid: kid.slice(0, 64) }, 'JWKS key skipped: duplicate kid')
      continue
    }
    const keyAlgorithms = ALGORITHMS_FOR_KEY[keyTypeOf(jwk)] ?? []
    const entry: KeyEntry = {
      kid,
      jwk: publicPart(jwk),
      algorithms: new Set(jwk.alg === undefined ? keyAlgorithms : [jwk.alg]),
      imported: new Map(),
      ready: new Map(),
    }
    all.push(entry)
    if (kid !== undefined) byKid.set(kid, entry)
  }

  function importFor(entry: KeyEntry, alg: string): Promise<CryptoKey> {
    let key = entry.imported.get(alg)
    if (key === undefined) {
      key = importJWK(entry.jwk, alg).then((imported) => {
        if (imported instanceof Uint8Array)
          throw new KeyAlgorithmMismatch({ detail: 'symmetric key' })
        entry.ready.set(alg, imported)
        return imported
      })
      // A failed import (e.g. an RSA key under 2048 bits) is not memoised as a success, but it is
      // memoised: it will fail the same way for every token, so do not redo the work per request.
      entry.imported.set(alg, key)
    }
    return key
  }

  return {
    size: all.length,
    kids: [...byKid.keys()],
    has: (kid) => byKid.has(kid),
    selectSync(header) {
      // Only the unambiguous case: a kid that names a key already imported for this alg (which
      // `select` checked against the key's binding when it imported it).
      if (header.kid === undefined) return undefined
      return byKid.get(header.kid)?.ready.get(header.alg)
    },
    async select(header) {
      let entry: KeyEntry | undefined
      if (header.kid !== undefined) {
        entry = byKid.get(header.kid)
        if (entry === undefined) throw new UnknownKeyId()
      } else {
        // No kid: acceptable only when exactly one key in the set can verify this algorithm.
        const candidates = all.filter((candidate) => candidate.algorithms.has(header.alg))
        if (candidates.length !== 1) {
          throw new UnknownKeyId({ detail: `no kid and ${candidates.length} candidate keys` })
        }
        entry = candidates[0]
      }
      if (entry === undefined) throw new UnknownKeyId()
      if (!entry.algorithms.has(header.alg)) throw new KeyAlgorithmMismatch()
      try {
        return await importFor(entry, header.alg)
      } catch (cause) {
        if (cause instanceof KeyAlgorithmMismatch) throw cause
        throw new KeyAlgorithmMismatch({
          cause,
          detail: 'the key cannot be imported for this algorithm',
        })
      }
    },
  }
}

function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk
  const copy: JWK = {}
  if (kty !== undefined) copy.kty = kty
  if (crv !== undefined) copy.crv = crv
  if (x !== undefined) copy.x = x
  if (y !== undefined) copy.y = y
  if (n !== undefined) copy.n = n
  if (e !== undefined) copy.e = e
  return copy
}
