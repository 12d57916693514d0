import { type JWTVerifyOptions, errors as jose, jwtVerify } from 'jose'
import {
  AlgorithmNotAllowed,
  AudienceMismatch,
  InvalidClaim,
  InvalidSignature,
  IssuedInFuture,
  IssuerMismatch,
  KeyAlgorithmMismatch,
  MalformedToken,
  MissingClaim,
  TokenExpired,
  TokenNotYetValid,
  TokenTooLarge,
  TypeMismatch,
  UnencodedPayload,
  UnsupportedCriticalHeader,
  type ValidationError,
} from './errors.js'
import { MAX_KID_LENGTH } from './internal/key-index.js'
import { createTokenCache, type TokenCache, tokenHash } from './internal/token-cache.js'
import { createRemoteJwks, type RemoteJwksOptions } from './jwks-cache.js'
import { createLocalJwks } from './local-jwks.js'
import {
  type AccessTokenClaims,
  type Algorithm,
  DEFAULT_ALGORITHMS,
  type JwtHeader,
  type KeySet,
  type Logger,
  SUPPORTED_ALGORITHMS,
  type VerifiedToken,
} from './types.js'

export interface JwtValidatorOptions {
  /** The one issuer whose tokens are accepted (`iss` must equal it exactly). Required. */
  readonly issuer: string
  /** This API's identifier(s): `aud` must contain one of them. Required. */
  readonly audience: string | readonly string[]
  /** Where the keys come from — exactly one of these. */
  readonly jwksUri?: string | URL
  readonly jwks?: { readonly keys: readonly object[] }
  readonly keySet?: KeySet
  /** Options for the JWKS cache when `jwksUri` is given (CA, cooldown, cache bounds, …). */
  readonly jwksOptions?: Omit<RemoteJwksOptions, 'uri' | 'logger' | 'now'>
  /** Allowed JWS algorithms. Default RS256, PS256, ES256, EdDSA. `none` and `HS*` are refused. */
  readonly algorithms?: readonly Algorithm[]
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. At most 300. */
  readonly clockToleranceSeconds?: number
  /** Claims that must be present, in addition to `iss`, `aud` and `exp` (always required). */
  readonly requiredClaims?: readonly string[]
  /** The `typ` header the token must carry (RFC 9068: `at+jwt`), or `null` to skip the check. */
  readonly typ?: string | null
  /** Tokens larger than this are refused before any parsing. Default 8 KiB. */
  readonly maxTokenBytes?: number
  /** Refuse tokens whose `iat` is older than this many seconds (requires `iat`). Off by default. */
  readonly maxTokenAgeSeconds?: number
  /** The verified-token cache: off unless given. Entries live until min(exp, ttl). */
  readonly cache?: { readonly maxEntries: number; readonly ttlSeconds?: number }
  readonly logger?: Logger
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number
}

export interface JwtValidator {
  /**
   * Resolves the verified token, or rejects with a `ValidationError`: an `InvalidToken` subclass
   * (401) for a bad token, `KeySetUnavailable` (503) when the issuer's keys cannot be had.
   */
  validate(token: string): Promise<VerifiedToken>
  readonly issuer: string
  readonly audiences: readonly string[]
  /** How many verified tokens the cache holds (0 when the cache is off). */
  readonly cacheSize: number
}

const BASE64URL = /^[A-Za-z0-9_-]+$/
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
const REFUSED_ALGORITHM = /^(none|hs\d+)$/i

export function createJwtValidator(options: JwtValidatorOptions): JwtValidator {
  const { issuer } = options
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('issuer is required')
  const audiences =
    typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])]
  if (audiences.length === 0 || audiences.some((aud) => typeof aud !== 'string' || aud === '')) {
    throw new TypeError('audience is required: the identifier(s) of this API')
  }
  const algorithms = new Set<string>(options.algorithms ?? DEFAULT_ALGORITHMS)
  for (const alg of algorithms) {
    if (REFUSED_ALGORITHM.test(alg)) {
      throw new TypeError(
        `algorithm ${alg} can never be enabled: tokens are verified with public keys only`,
      )
    }
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg))
      throw new TypeError(`unsupported algorithm ${alg}`)
  }
  if (algorithms.size === 0) throw new TypeError('algorithms must name at least one algorithm')
  const tolerance = options.clockToleranceSeconds ?? 30
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
    throw new TypeError('clockToleranceSeconds must be between 0 and 300')
  }
  const maxTokenBytes = options.maxTokenBytes ?? 8192
  if (!Number.isInteger(maxTokenBytes) || maxTokenBytes < 64)
    throw new TypeError('maxTokenBytes must be an integer ≥ 64')
  const expectedTyp = options.typ === undefined ? 'at+jwt' : options.typ
  const normalisedTyp = expectedTyp === null ? null : normaliseTyp(expectedTyp)
  const now = options.now ?? Date.now
  const keySet = resolveKeySet(options)
  const cache = createCache(options.cache)

  const verifyOptions: JWTVerifyOptions = {
    issuer,
    audience: audiences,
    clockTolerance: tolerance,
    requiredClaims: [...new Set(['iss', 'aud', 'exp', ...(options.requiredClaims ?? [])])],
    ...(options.maxTokenAgeSeconds === undefined
      ? {}
      : { maxTokenAge: options.maxTokenAgeSeconds }),
  }

  // The header's alg is checked against this same list (and its key's binding) before jose runs,
  // so one options object serves every token; only an injected clock needs a copy.
  const constantOptions: JWTVerifyOptions = { ...verifyOptions, algorithms: [...algorithms] }
  const optionsAt =
    options.now === undefined
      ? () => constantOptions
      : (nowMs: number): JWTVerifyOptions => ({ ...constantOptions, currentDate: new Date(nowMs) })

  async function verify(token: string, nowMs: number): Promise<VerifiedToken> {
    // Three base64url parts and nothing else: jose's decoder (atob) skips whitespace, which would
    // let a token with spaces in its signature verify as if they were not there.
    if (!COMPACT_JWS.test(token)) throw new MalformedToken()
    // The header is read here rather than in a jose key resolver: jose's function-key path
    // measured ~11 µs more CPU per RS256 verification than handing it the CryptoKey.
    const header = readHeader(token)
    checkHeader(header)
    // Most tokens name a key that is already imported: take it without another await.
    const key = keySet.getKeySync?.(header) ?? (await keySet.getKey(header))
    let claims: AccessTokenClaims
    try {
      claims = (await jwtVerify<AccessTokenClaims>(token, key, optionsAt(nowMs))).payload
    } catch (error) {
      throw fromJose(error)
    }
    // jose checks iat only against maxTokenAge; RFC 8725 §3.10 wants iat sanity-checked too.
    if (claims.iat !== undefined && claims.iat > nowMs / 1000 + tolerance)
      throw new IssuedInFuture()
    return toVerifiedToken(header, claims, cache !== undefined)
  }

  function checkHeader(header: JwtHeader): void {
    if (typeof header.alg !== 'string' || !algorithms.has(header.alg)) {
      throw new AlgorithmNotAllowed({ detail: `alg ${String(header.alg).slice(0, 16)}` })
    }
    // RFC 7797: an unencoded payload is never acceptable for an access token.
    if (header.b64 !== undefined) throw new UnencodedPayload()
    // RFC 7515 §4.1.11: Gatehouse understands no extensions, so any `crit` must be refused.
    if (header.crit !== undefined) throw new UnsupportedCriticalHeader()
    if (
      header.kid !== undefined &&
      (typeof header.kid !== 'string' || header.kid.length > MAX_KID_LENGTH)
    ) {
      throw new MalformedToken({ detail: 'invalid kid header' })
    }
    if (
      normalisedTyp !== null &&
      (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== normalisedTyp)
    ) {
      throw new TypeMismatch()
    }
  }

  if (cache === undefined) {
    return {
      validate(token) {
        try {
          checkShape(token, maxTokenBytes)
        } catch (error) {
          return Promise.reject(error)
        }
        return verify(token, now())
      },
      issuer,
      audiences,
      cacheSize: 0,
    }
  }

  async function verifyAndCache(token: string, key: string, nowMs: number): Promise<VerifiedToken> {
    const verified = await verify(token, nowMs)
    cache?.set(key, verified, nowMs / 1000)
    return verified
  }

  return {
    // Not an async function: a cache hit resolves without another promise or await on the way.
    validate(token) {
      try {
        checkShape(token, maxTokenBytes)
      } catch (error) {
        return Promise.reject(error)
      }
      const nowMs = now()
      const key = tokenHash(token)
      const hit = cache.get(key, nowMs / 1000)
      return hit !== undefined ? Promise.resolve(hit) : verifyAndCache(token, key, nowMs)
    },
    issuer,
    audiences,
    get cacheSize() {
      return cache.size
    },
  }
}

function resolveKeySet(options: JwtValidatorOptions): KeySet {
  const sources = [options.jwksUri, options.jwks, options.keySet].filter(
    (source) => source !== undefined,
  )
  if (sources.length !== 1) throw new TypeError('give exactly one of jwksUri, jwks or keySet')
  if (options.keySet !== undefined) return options.keySet
  if (options.jwks !== undefined) return createLocalJwks(options.jwks, options.logger)
  return createRemoteJwks({
    ...options.jwksOptions,
    uri: options.jwksUri as string | URL,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
  })
}

function createCache(options: JwtValidatorOptions['cache']): TokenCache | undefined {
  if (options === undefined) return undefined
  const ttl = options.ttlSeconds ?? 300
  if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1)
    throw new TypeError('cache.maxEntries must be ≥ 1')
  if (!Number.isFinite(ttl) || ttl <= 0) throw new TypeError('cache.ttlSeconds must be > 0')
  return createTokenCache(options.maxEntries, ttl)
}

function checkShape(token: string, maxTokenBytes: number): void {
  if (typeof token !== 'string' || token.length === 0) throw new MalformedToken()
  // Tokens are ASCII; a longer string is larger in bytes too, so length is a safe first bound.
  if (token.length > maxTokenBytes) throw new TokenTooLarge(maxTokenBytes)
}

function readHeader(token: string): JwtHeader {
  const dot = token.indexOf('.')
  // Exactly three parts: JWE (five parts) and anything else is not an access token here.
  if (dot <= 0) throw new MalformedToken()
  const second = token.indexOf('.', dot + 1)
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw new MalformedToken()
  const segment = token.slice(0, dot)
  if (!BASE64URL.test(segment)) throw new MalformedToken()
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new MalformedToken({ detail: 'header is not JSON' })
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new MalformedToken({ detail: 'header is not a JSON object' })
  }
  return header as JwtHeader
}

/** RFC 7515 §4.1.9: `typ` is a media type; "application/" may be omitted and case is ignored. */
function normaliseTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

/**
 * `shared`: the result goes into the verified-token cache and is handed to many requests, so it
 * is frozen all the way down. Otherwise it belongs to one request and only its top level is
 * frozen (a deep freeze measurably costs on the cache-miss path).
 */
function toVerifiedToken(
  header: JwtHeader,
  claims: AccessTokenClaims,
  shared: boolean,
): VerifiedToken {
  const { scope, sub, client_id: clientId, jti } = claims
  if (scope !== undefined && typeof scope !== 'string') throw new InvalidClaim('scope')
  if (sub !== undefined && typeof sub !== 'string') throw new InvalidClaim('sub')
  if (clientId !== undefined && typeof clientId !== 'string') throw new InvalidClaim('client_id')
  if (jti !== undefined && typeof jti !== 'string') throw new InvalidClaim('jti')
  // RFC 6749 §3.3: scope-tokens separated by single spaces; tolerate stray spaces all the same.
  const scopes = scope === undefined || scope === '' ? [] : scope.split(' ')
  return Object.freeze({
    header: Object.freeze(header), // parsed for this token alone: safe to freeze in place
    claims: shared ? deepFreeze(claims) : Object.freeze(claims),
    scopes: new Set(scopes.includes('') ? scopes.filter(Boolean) : scopes) as ReadonlySet<string>,
    subject: sub,
    clientId,
    tokenId: jti,
    expiresAt: claims.exp,
  })
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}

/** Maps jose's errors to Gatehouse's typed errors by class and claim name, never by message text. */
function fromJose(error: unknown): ValidationError {
  const options = { cause: error }
  if (error instanceof jose.JWTExpired) return new TokenExpired(options)
  if (error instanceof jose.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new MissingClaim(error.claim, options)
    switch (error.claim) {
      case 'iss':
        return new IssuerMismatch(options)
      case 'aud':
        return new AudienceMismatch(options)
      case 'nbf':
        return new TokenNotYetValid(options)
      case 'iat':
        return error.reason === 'check_failed'
          ? new IssuedInFuture(options)
          : new InvalidClaim('iat', options)
      default:
        return new InvalidClaim(error.claim, options)
    }
  }
  if (error instanceof jose.JWSSignatureVerificationFailed) return new InvalidSignature(options)
  if (error instanceof jose.JOSEAlgNotAllowed || error instanceof jose.JOSENotSupported) {
    return new AlgorithmNotAllowed(options)
  }
  if (error instanceof jose.JWSInvalid || error instanceof jose.JWTInvalid)
    return new MalformedToken(options)
  // jose rejects a CryptoKey that does not fit the algorithm with a TypeError.
  if (error instanceof TypeError) return new KeyAlgorithmMismatch(options)
  if (error instanceof jose.JOSEError) return new MalformedToken(options)
  // Anything else is a fault in Gatehouse, not in the token: let it surface as a server error
  // (rendered generically) rather than telling the client its token is invalid.
  throw error
}
