import { createJwtValidator, type JwtValidator } from '@gatehouse/jwt'
import { importJWK, jwtVerify } from 'jose'
import { compareThroughput } from '../harness/throughput.js'
import type { Suite, SuiteContext, SuiteResult } from '../harness/types.js'
import {
  BENCH_AUDIENCE,
  BENCH_ISSUER,
  type BenchAlgorithm,
  type BenchKey,
  createBenchKey,
  signTokens,
} from './jwt-tokens.js'

const ALGORITHMS: readonly BenchAlgorithm[] = ['ES256', 'RS256', 'EdDSA']
/** jose verifies on WebCrypto (libuv threadpool): throughput depends on operations in flight. */
const IN_FLIGHT = 32
/** The hot set a gateway sees again and again: few enough to stay cached, more than one. */
const HOT_TOKENS = 16
const JOSE = 'jose.jwtVerify (same JWK, imported by jose; { issuer, audience })'

/**
 * `@gatehouse/jwt`'s validator against raw `jose.jwtVerify` with the same public key, for
 * ES256, RS256 and EdDSA: cache off on a pool of distinct tokens (every call verifies a
 * signature), and cache on over a small hot set (issue #2: ≥ 0.9× and ≥ 20× raw jose).
 */
export const jwtSuite: Suite = {
  name: 'jwt',
  description: '@gatehouse/jwt validator vs raw jose.jwtVerify, cache miss and cache hit',
  async run(context) {
    const results: SuiteResult[] = []
    for (const alg of ALGORITHMS) results.push(...(await benchAlgorithm(context, alg)))
    return results
  },
}

async function benchAlgorithm(context: SuiteContext, alg: BenchAlgorithm): Promise<SuiteResult[]> {
  const durationMs = context.quick ? 100 : 500
  const poolSize = context.quick ? 256 : 4096
  context.log(`${alg}: signing ${poolSize} distinct tokens`)
  const key = await createBenchKey(alg)
  const tokens = await signTokens(key, poolSize)
  const hot = tokens.slice(0, HOT_TOKENS)
  const validatorOptions = {
    issuer: BENCH_ISSUER,
    audience: BENCH_AUDIENCE,
    jwks: { keys: [key.publicJwk] },
  }
  const uncached = createJwtValidator(validatorOptions)
  const cached = createJwtValidator({ ...validatorOptions, cache: { maxEntries: 10_000 } })
  // The same key in the same form the validator verifies with: the published JWK, imported
  // (a key imported from a JWK costs measurably more CPU per verification in Node's WebCrypto
  // than the CryptoKey that generateKeyPair returned, so that one would not be the same key).
  const joseKey = await importJWK(key.publicJwk, alg)
  const verifyWithJose = (token: string) =>
    jwtVerify(token, joseKey, { issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE })
  await checkBothAccept(key, tokens, uncached, verifyWithJose)
  const pick = (pool: readonly string[], sequence: number) => pool[sequence % pool.length] as string

  const miss = await compareThroughput(context, {
    contender: {
      name: `${alg} validator, cache off`,
      operation: (sequence) => uncached.validate(pick(tokens, sequence)),
    },
    baseline: {
      name: `${alg} ${JOSE}`,
      operation: (sequence) => verifyWithJose(pick(tokens, sequence)),
    },
    concurrency: IN_FLIGHT,
    durationMs,
  })

  for (const token of hot) await cached.validate(token)
  const hit = await compareThroughput(context, {
    contender: {
      name: `${alg} validator, warm cache`,
      operation: (sequence) => cached.validate(pick(hot, sequence)),
    },
    baseline: {
      name: `${alg} ${JOSE}`,
      operation: (sequence) => verifyWithJose(pick(hot, sequence)),
    },
    concurrency: IN_FLIGHT,
    durationMs,
  })
  // A cache that had dropped the hot set would have measured verification, not lookup.
  if (cached.cacheSize !== HOT_TOKENS) {
    throw new Error(`${alg}: the cache holds ${cached.cacheSize} tokens, expected ${HOT_TOKENS}`)
  }

  const baseline = `${JOSE}, ${alg}, ${IN_FLIGHT} in flight`
  return [
    {
      name: `jwt ${alg} cache miss: createJwtValidator (cache off), ${poolSize} distinct tokens`,
      unit: 'verifications/s',
      ...miss,
      baseline,
      target: { atLeast: 0.9, source: 'issue #2' },
    },
    {
      name: `jwt ${alg} cache hit: createJwtValidator (cache maxEntries 10000), ${HOT_TOKENS} hot tokens`,
      unit: 'verifications/s',
      ...hit,
      baseline,
      target: { atLeast: 20, source: 'issue #2' },
    },
  ]
}

/** Refuses to measure unless both sides accept the tokens and agree on what they say. */
async function checkBothAccept(
  key: BenchKey,
  tokens: readonly string[],
  validator: JwtValidator,
  verifyWithJose: (token: string) => Promise<{ payload: { sub?: string } }>,
): Promise<void> {
  const token = tokens[tokens.length - 1] as string
  const [verified, raw] = await Promise.all([validator.validate(token), verifyWithJose(token)])
  if (verified.subject === undefined || verified.subject !== raw.payload.sub) {
    throw new Error(`${key.alg}: the validator and jose disagree on a token's subject`)
  }
}
