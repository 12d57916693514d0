import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { exportJWK, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  AlgorithmNotAllowed,
  AudienceMismatch,
  BearerError,
  createJwtValidator,
  InvalidClaim,
  InvalidSignature,
  IssuedInFuture,
  IssuerMismatch,
  type JwtValidatorOptions,
  KeyAlgorithmMismatch,
  type KeySet,
  MalformedToken,
  MissingClaim,
  TokenExpired,
  TokenNotYetValid,
  TokenTooLarge,
  TypeMismatch,
  UnencodedPayload,
  UnknownKeyId,
  UnsupportedCriticalHeader,
} from './index.js'
import {
  createTestKey,
  defaultClaims,
  rawToken,
  signAccessToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestKey,
} from './test-support/test-issuer.js'

let es256: TestKey
let rs256: TestKey
let ps256: TestKey
let eddsa: TestKey
let attacker: TestKey

beforeAll(async () => {
  ;[es256, rs256, ps256, eddsa, attacker] = await Promise.all([
    createTestKey('ES256', 'es-1'),
    createTestKey('RS256', 'rs-1'),
    createTestKey('PS256', 'ps-1'),
    createTestKey('EdDSA', 'ed-1'),
    createTestKey('ES256', 'attacker'),
  ])
})

function validator(options: Partial<JwtValidatorOptions> = {}) {
  return createJwtValidator({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwks: { keys: [es256.publicJwk, rs256.publicJwk, ps256.publicJwk, eddsa.publicJwk] },
    ...options,
  } as JwtValidatorOptions)
}

/** Asserts a typed rejection whose message never echoes any part of the token. */
async function rejects(
  token: string,
  type: abstract new (...args: never[]) => Error,
  options?: Partial<JwtValidatorOptions>,
) {
  const error = await validator(options)
    .validate(token)
    .then(
      () => undefined,
      (caught: unknown) => caught,
    )
  expect(error).toBeInstanceOf(type)
  expect(error).toBeInstanceOf(BearerError)
  const message = (error as Error).message
  for (const part of token.split('.'))
    if (part.length >= 8) expect(message).not.toContain(part.slice(0, 8))
  return error as BearerError
}

describe('createJwtValidator — accepts', () => {
  it.each(['es256', 'rs256', 'ps256', 'eddsa'] as const)(
    'a well-formed %s access token, exposing claims and scopes',
    async (name) => {
      const key = { es256, rs256, ps256, eddsa }[name]
      const verified = await validator().validate(
        await signAccessToken(key, { claims: { customer_id: 'c-42' } }),
      )
      expect(verified.subject).toBe('user-1')
      expect(verified.clientId).toBe('client-1')
      expect(verified.claims.customer_id).toBe('c-42')
      expect([...verified.scopes]).toEqual(['orders:read', 'profile'])
      expect(Object.isFrozen(verified) && Object.isFrozen(verified.claims)).toBe(true)
    },
  )

  it('an aud array that contains this API, and typ written as application/at+jwt', async () => {
    const token = await signAccessToken(es256, {
      claims: { aud: ['other', TEST_AUDIENCE] },
      header: { typ: 'application/AT+JWT' },
    })
    await expect(validator().validate(token)).resolves.toBeDefined()
  })

  it('a token expired by less than the clock tolerance', async () => {
    const now = Date.now()
    const token = await signAccessToken(es256, { claims: { exp: Math.floor(now / 1000) - 10 } })
    await expect(validator({ now: () => now }).validate(token)).resolves.toBeDefined()
  })

  it('a token without typ when typ checking is switched off', async () => {
    const token = await signAccessToken(es256, { header: { typ: undefined } })
    await expect(validator({ typ: null }).validate(token)).resolves.toBeDefined()
  })
})

describe('createJwtValidator — refuses misuse at creation (TypeError)', () => {
  it.each([['none'], ['HS256'], ['hs512'], ['None']])(
    'algorithm %s together with public keys',
    (alg) => {
      expect(() => validator({ algorithms: [alg as never] })).toThrow(/can never be enabled/)
    },
  )
  it('a missing issuer, audience or key source, or two key sources', () => {
    expect(() => validator({ issuer: '' })).toThrow(TypeError)
    expect(() => validator({ audience: [] })).toThrow(TypeError)
    expect(() => createJwtValidator({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE })).toThrow(
      /exactly one/,
    )
    expect(() => validator({ jwksUri: 'https://issuer.test/jwks' })).toThrow(/exactly one/)
  })
  it('a JWKS URI over plain http', () => {
    expect(() =>
      createJwtValidator({
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        jwksUri: 'http://issuer.test/jwks',
      }),
    ).toThrow(/https/)
  })
  it('an absurd clock tolerance or token size limit', () => {
    expect(() => validator({ clockToleranceSeconds: 3600 })).toThrow(TypeError)
    expect(() => validator({ maxTokenBytes: 10 })).toThrow(TypeError)
  })
})

describe('createJwtValidator — rejects (attacks of RFC 8725)', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" with an empty signature', async (alg) => {
    const error = await rejects(
      rawToken({ alg, typ: 'at+jwt', kid: 'es-1' }, defaultClaims()),
      AlgorithmNotAllowed,
    )
    expect(error.code).toBe('invalid_token')
    expect(error.status).toBe(401)
    expect(error.reason).toBe('jwt.alg_not_allowed')
  })

  it('HS256 signed with the issuer public key as the HMAC secret (key confusion)', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const rsaJwk = { ...(await exportJWK(publicKey)), kid: 'rsa-conf', alg: 'RS256' }
    const pem = publicKey.export({ type: 'spki', format: 'pem' })
    const unsigned = rawToken(
      { alg: 'HS256', typ: 'at+jwt', kid: 'rsa-conf' },
      defaultClaims(),
    ).slice(0, -1)
    for (const secret of [
      pem,
      JSON.stringify(rsaJwk),
      createPublicKey(pem).export({ type: 'pkcs1', format: 'der' }),
    ]) {
      const signature = createHmac('sha256', secret).update(unsigned).digest('base64url')
      await rejects(`${unsigned}.${signature}`, AlgorithmNotAllowed, { jwks: { keys: [rsaJwk] } })
    }
  })

  it('an allowed-elsewhere algorithm that this validator does not allow', async () => {
    const es384 = await createTestKey('ES384', 'es384')
    await rejects(await signAccessToken(es384), AlgorithmNotAllowed, {
      jwks: { keys: [es384.publicJwk] },
    })
    await rejects(await signAccessToken(rs256), AlgorithmNotAllowed, { algorithms: ['ES256'] })
  })

  it('an attacker key embedded in the jwk header is never used', async () => {
    for (const kid of ['es-1', undefined]) {
      const token = await signAccessToken(attacker, { header: { jwk: attacker.publicJwk, kid } })
      // Without a kid the one published ES256 key is chosen — never the embedded one.
      await rejects(token, InvalidSignature)
    }
    // Only one issuer key and no kid: the issuer key is chosen, never the embedded one.
    const token = await signAccessToken(attacker, {
      header: { jwk: attacker.publicJwk, kid: undefined },
    })
    await rejects(token, InvalidSignature, { jwks: { keys: [es256.publicJwk] } })
  })

  it('an attacker certificate chain in x5c is never used', async () => {
    const token = await signAccessToken(attacker, {
      header: { x5c: ['MIIBszCCAVmgAwIBAgIUQ=='], kid: 'es-1' },
    })
    await rejects(token, InvalidSignature)
  })

  it('a kid with path traversal text, and an oversized kid', async () => {
    await rejects(
      await signAccessToken(es256, { header: { kid: '../../../../etc/passwd' } }),
      UnknownKeyId,
    )
    await rejects(await signAccessToken(es256, { header: { kid: "' OR 1=1 --" } }), UnknownKeyId)
    await rejects(
      await signAccessToken(es256, { header: { kid: 'k'.repeat(300) } }),
      MalformedToken,
    )
    await rejects(await signAccessToken(es256, { header: { kid: 42 } }), MalformedToken)
  })

  it('an ECDSA signature of zeros (CVE-2022-21449 "psychic signatures")', async () => {
    const [header, payload] = (await signAccessToken(es256)).split('.')
    await rejects(
      `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`,
      InvalidSignature,
    )
    await rejects(`${header}.${payload}.${Buffer.alloc(8).toString('base64url')}`, InvalidSignature)
  })

  it('a valid token with whitespace slipped into its signature (decoders skip it)', async () => {
    const [header, payload, signature] = (await signAccessToken(es256)).split('.')
    const spaced = `${header}.${payload}.${signature?.slice(0, 10)} ${signature?.slice(10)}`
    await rejects(spaced, MalformedToken)
  })

  it('a tampered payload carrying the original signature', async () => {
    const [header, , signature] = (await signAccessToken(es256)).split('.')
    const forged = Buffer.from(
      JSON.stringify({ ...defaultClaims(), scope: 'orders:read admin' }),
    ).toString('base64url')
    await rejects(`${header}.${forged}.${signature}`, InvalidSignature)
  })

  it('a token signed by a key the issuer does not publish under that kid', async () => {
    await rejects(await signAccessToken(attacker, { header: { kid: 'unknown-kid' } }), UnknownKeyId)
  })

  it('an algorithm other than the one the key is bound to (JWK alg, or kty)', async () => {
    // rs-1 is published with alg RS256: a PS256 token naming it is refused even though PS256 fits RSA.
    const ps = await createTestKey('PS256', 'rs-1')
    await rejects(await signAccessToken(ps, {}), KeyAlgorithmMismatch, {
      jwks: { keys: [rs256.publicJwk] },
    })
    // An EC key without alg cannot verify an RS256 token.
    const { alg: _alg, ...ecWithoutAlg } = es256.publicJwk
    const rs = await createTestKey('RS256', 'es-1')
    await rejects(await signAccessToken(rs), KeyAlgorithmMismatch, {
      jwks: { keys: [ecWithoutAlg] },
    })
  })

  it('a 1 MB token, before any parsing', async () => {
    const huge = `${'a'.repeat(512 * 1024)}.${'b'.repeat(512 * 1024)}.c`
    const error = await rejects(huge, TokenTooLarge)
    expect(error.reason).toBe('jwt.too_large')
  })
})

describe('createJwtValidator — rejects (claims and headers)', () => {
  it('an expired token, beyond the clock tolerance', async () => {
    const token = await signAccessToken(es256, {
      claims: { exp: Math.floor(Date.now() / 1000) - 31 },
    })
    await rejects(token, TokenExpired)
  })
  it('a token not yet valid (nbf)', async () => {
    await rejects(
      await signAccessToken(es256, { claims: { nbf: Math.floor(Date.now() / 1000) + 120 } }),
      TokenNotYetValid,
    )
  })
  it('a token issued in the future (iat)', async () => {
    await rejects(
      await signAccessToken(es256, { claims: { iat: Math.floor(Date.now() / 1000) + 120 } }),
      IssuedInFuture,
    )
  })
  it('a token from another issuer', async () => {
    await rejects(
      await signAccessToken(es256, { claims: { iss: 'https://evil.test' } }),
      IssuerMismatch,
    )
    await rejects(
      await signAccessToken(es256, { claims: { iss: `${TEST_ISSUER}/` } }),
      IssuerMismatch,
    )
  })
  it('a token minted for another audience', async () => {
    await rejects(
      await signAccessToken(es256, { claims: { aud: 'https://api.test/payments' } }),
      AudienceMismatch,
    )
    await rejects(await signAccessToken(es256, { claims: { aud: [] } }), AudienceMismatch)
  })
  it('a wrong or missing typ (an ID token or a plain JWT used as an access token)', async () => {
    await rejects(await signAccessToken(es256, { header: { typ: 'JWT' } }), TypeMismatch)
    await rejects(await signAccessToken(es256, { header: { typ: undefined } }), TypeMismatch)
  })
  it('an unknown crit header', async () => {
    const signature = Buffer.alloc(64).toString('base64url')
    const header = { alg: 'ES256', kid: 'es-1', typ: 'at+jwt' }
    await rejects(
      rawToken({ ...header, crit: ['exp'], exp: 1 }, defaultClaims(), signature),
      UnsupportedCriticalHeader,
    )
    await rejects(
      rawToken({ ...header, crit: [] }, defaultClaims(), signature),
      UnsupportedCriticalHeader,
    )
  })
  it('b64: false (unencoded payload)', async () => {
    const token = rawToken(
      { alg: 'ES256', kid: 'es-1', typ: 'at+jwt', b64: false, crit: ['b64'] },
      defaultClaims(),
      'c2ln',
    )
    await rejects(token, UnencodedPayload)
  })
  it('a missing exp, and a missing configured required claim', async () => {
    const error = await rejects(
      await signAccessToken(es256, { claims: { exp: undefined } }),
      MissingClaim,
    )
    expect((error as MissingClaim).claim).toBe('exp')
    const missingSub = await rejects(
      await signAccessToken(es256, { claims: { sub: undefined } }),
      MissingClaim,
      { requiredClaims: ['sub'] },
    )
    expect((missingSub as MissingClaim).claim).toBe('sub')
  })
  it('claims of the wrong type', async () => {
    await rejects(
      await signAccessToken(es256, { claims: { scope: ['orders:read'] } }),
      InvalidClaim,
    )
    await rejects(await signAccessToken(es256, { claims: { sub: 42 } }), InvalidClaim)
    await rejects(await signAccessToken(es256, { claims: { exp: 'tomorrow' } }), InvalidClaim)
  })
  it('a token older than maxTokenAgeSeconds', async () => {
    const iat = Math.floor(Date.now() / 1000) - 3600
    await rejects(
      await signAccessToken(es256, { claims: { iat, exp: iat + 7200 } }),
      TokenExpired,
      { maxTokenAgeSeconds: 600 },
    )
  })
  it.each([
    ['an empty string', ''],
    ['one part', 'abc'],
    ['two parts', 'abc.def'],
    ['five parts (JWE)', 'a.b.c.d.e'],
    ['a header that is not base64url', 'a*b.eyJ9.c'],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.e30.c2ln`],
    ['a header that is a JSON array', `${Buffer.from('[]').toString('base64url')}.e30.c2ln`],
    ['whitespace inside a part', 'eyJhbGciOiJFUzI1NiJ9.e30.c2 ln'],
    ['a newline inside a part', 'eyJhbGciOiJFUzI1NiJ9.e30\n.c2ln'],
  ])('%s', async (_name, token) => {
    await rejects(token, MalformedToken)
  })
  it('a payload that is not a JSON object', async () => {
    const token = rawToken(
      { alg: 'ES256', kid: 'es-1', typ: 'at+jwt' },
      '[1,2]',
      Buffer.alloc(64).toString('base64url'),
    )
    const error = await validator()
      .validate(token)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(BearerError)
  })
})

describe('verified-token cache', () => {
  function countingKeySet(inner: KeySet) {
    const counter = { calls: 0 }
    const keySet: KeySet = {
      getKey(header) {
        counter.calls++
        return inner.getKey(header)
      },
    }
    return { keySet, counter }
  }

  it('verifies a hot token once and serves it from the cache until exp', async () => {
    let now = Date.now()
    const { keySet, counter } = countingKeySet({ getKey: async () => es256.publicKey })
    const cached = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      keySet,
      cache: { maxEntries: 10 },
      now: () => now,
    })
    const token = await signAccessToken(es256, {
      now,
      claims: { exp: Math.floor(now / 1000) + 60 },
    })
    const first = await cached.validate(token)
    for (let i = 0; i < 5; i++) expect(await cached.validate(token)).toBe(first)
    expect(counter.calls).toBe(1)
    expect(cached.cacheSize).toBe(1)
    now += 61_000 // past exp: the entry is gone and full validation applies (within tolerance: accepted)
    await cached.validate(token)
    expect(counter.calls).toBe(2)
    now += 60_000 // beyond the tolerance: refused, although it was cached once
    await expect(cached.validate(token)).rejects.toBeInstanceOf(TokenExpired)
  })

  it('bounds entries by ttl and by count (least recently used goes first)', async () => {
    let now = Date.now()
    const { keySet, counter } = countingKeySet({ getKey: async () => es256.publicKey })
    const cached = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      keySet,
      cache: { maxEntries: 2, ttlSeconds: 10 },
      now: () => now,
    })
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => signAccessToken(es256, { now })))
    for (const token of [a, b, a, c] as string[]) await cached.validate(token)
    expect(counter.calls).toBe(3)
    await cached.validate(a as string) // a was used after b: still cached
    expect(counter.calls).toBe(3)
    await cached.validate(b as string) // b was evicted
    expect(counter.calls).toBe(4)
    now += 11_000
    await cached.validate(b as string) // ttl passed
    expect(counter.calls).toBe(5)
  })

  it('never caches a rejection', async () => {
    const { keySet, counter } = countingKeySet({ getKey: async () => es256.publicKey })
    const cached = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      keySet,
      cache: { maxEntries: 10 },
    })
    const token = await signAccessToken(es256, { claims: { aud: 'other' } })
    await expect(cached.validate(token)).rejects.toBeInstanceOf(AudienceMismatch)
    await expect(cached.validate(token)).rejects.toBeInstanceOf(AudienceMismatch)
    expect(counter.calls).toBe(2)
    expect(cached.cacheSize).toBe(0)
  })

  it('refuses a too-large token before looking in the cache', async () => {
    const cached = validator({ cache: { maxEntries: 10 } })
    await expect(cached.validate('x'.repeat(9000))).rejects.toBeInstanceOf(TokenTooLarge)
  })
})

describe('signing-side sanity', () => {
  it('a jose-made token with a non-at+jwt typ is refused by default (ID tokens are not access tokens)', async () => {
    const idToken = await new SignJWT(defaultClaims())
      .setProtectedHeader({ alg: 'ES256', kid: 'es-1', typ: 'JWT' })
      .sign(es256.privateKey)
    await rejects(idToken, TypeMismatch)
  })
})
