import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createJwtValidator,
  createRemoteJwks,
  InvalidSignature,
  KeySetUnavailable,
  parseCacheControlMaxAge,
  type RemoteJwksOptions,
  UnknownKeyId,
} from './index.js'
import { type JwksServer, recordingLogger, startJwksServer } from './test-support/jwks-server.js'
import {
  createTestKey,
  signAccessToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestKey,
} from './test-support/test-issuer.js'

let current: TestKey
let next: TestKey
const servers: JwksServer[] = []

beforeAll(async () => {
  ;[current, next] = await Promise.all([
    createTestKey('ES256', 'key-2026-01'),
    createTestKey('ES256', 'key-2026-02'),
  ])
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

async function serve(keys: object[]) {
  const server = await startJwksServer(keys)
  servers.push(server)
  return server
}

function clock(start = Date.now()) {
  const state = { now: start }
  return { state, now: () => state.now }
}

function remote(server: JwksServer, options: Partial<RemoteJwksOptions> = {}) {
  const logger = recordingLogger()
  const jwks = createRemoteJwks({ uri: server.uri, ca: server.ca, logger, ...options })
  const validator = createJwtValidator({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    keySet: jwks,
    ...(options.now ? { now: options.now } : {}),
  })
  return { jwks, validator, logger }
}

describe('createRemoteJwks', () => {
  it('fetches once over HTTPS with the custom CA and serves later tokens from the cache', async () => {
    const server = await serve([current.publicJwk])
    const { validator, jwks } = remote(server)
    for (let i = 0; i < 20; i++) await validator.validate(await signAccessToken(current))
    expect(server.requests).toBe(1)
    expect(jwks.status()).toMatchObject({ kids: ['key-2026-01'], fetches: 1, stale: false })
  })

  it('coalesces concurrent first fetches into one request', async () => {
    const server = await serve([current.publicJwk])
    server.delayMs = 50
    const { validator } = remote(server)
    const token = await signAccessToken(current)
    await Promise.all(Array.from({ length: 25 }, () => validator.validate(token)))
    expect(server.requests).toBe(1)
  })

  it('keeps keys for the Cache-Control max-age, bounded by the configured minimum and maximum', async () => {
    const server = await serve([current.publicJwk])
    const time = clock()
    server.cacheControl = 'public, max-age=120'
    const { validator } = remote(server, {
      now: time.now,
      minCacheMs: 60_000,
      maxCacheMs: 3_600_000,
    })
    const token = () => signAccessToken(current, { now: time.state.now })
    await validator.validate(await token())
    time.state.now += 119_000
    await validator.validate(await token())
    expect(server.requests).toBe(1)
    time.state.now += 2_000
    await validator.validate(await token())
    expect(server.requests).toBe(2)
    // max-age=1 is raised to the 60 s minimum; no-store likewise.
    server.cacheControl = 'max-age=1'
    time.state.now += 120_000
    await validator.validate(await token())
    expect(server.requests).toBe(3)
    time.state.now += 30_000
    await validator.validate(await token())
    expect(server.requests).toBe(3)
  })

  it('picks up a rotated-in key: an unknown kid triggers a refetch once the cooldown has passed', async () => {
    const server = await serve([current.publicJwk])
    const time = clock()
    const { validator } = remote(server, { now: time.now, cooldownMs: 30_000 })
    await validator.validate(await signAccessToken(current, { now: time.state.now }))
    server.keys = [current.publicJwk, next.publicJwk] // the issuer publishes its next key
    time.state.now += 31_000
    const verified = await validator.validate(await signAccessToken(next, { now: time.state.now }))
    expect(verified.header.kid).toBe('key-2026-02')
    expect(server.requests).toBe(2)
  })

  it('a flood of random unknown kids causes at most one fetch per cooldown', async () => {
    const server = await serve([current.publicJwk])
    const time = clock()
    const { validator } = remote(server, { now: time.now, cooldownMs: 30_000 })
    await validator.validate(await signAccessToken(current, { now: time.state.now }))
    time.state.now += 31_000
    const forged = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        signAccessToken(current, { now: time.state.now, header: { kid: `random-${i}` } }),
      ),
    )
    const results = await Promise.allSettled(forged.map((token) => validator.validate(token)))
    expect(
      results.every(
        (result) => result.status === 'rejected' && result.reason instanceof UnknownKeyId,
      ),
    ).toBe(true)
    expect(server.requests).toBe(2) // the initial fetch, and one refetch for the whole flood
    time.state.now += 10_000
    await expect(validator.validate(forged[0] as string)).rejects.toBeInstanceOf(UnknownKeyId)
    expect(server.requests).toBe(2)
    time.state.now += 21_000
    await expect(validator.validate(forged[1] as string)).rejects.toBeInstanceOf(UnknownKeyId)
    expect(server.requests).toBe(3)
  })

  it('serves the last good keys when the issuer is down (stale-if-error), says so, and recovers', async () => {
    const server = await serve([current.publicJwk])
    const time = clock()
    const { validator, jwks, logger } = remote(server, { now: time.now, timeoutMs: 1_000 })
    await validator.validate(await signAccessToken(current, { now: time.state.now }))
    await server.stop()
    time.state.now += 11 * 60_000 // past the default 10 min cache
    await expect(
      validator.validate(await signAccessToken(current, { now: time.state.now })),
    ).resolves.toBeDefined()
    expect(jwks.status().stale).toBe(true)
    expect(
      logger.lines.some((line) => line.level === 'warn' && /stale-if-error/.test(line.message)),
    ).toBe(true)
    // The failed fetch is not retried on every request.
    const failures = jwks.status().failures
    await validator.validate(await signAccessToken(current, { now: time.state.now }))
    expect(jwks.status().failures).toBe(failures)
    await server.start()
    time.state.now += 6_000
    await validator.validate(await signAccessToken(current, { now: time.state.now }))
    expect(jwks.status().stale).toBe(false)
    expect(logger.lines.some((line) => line.level === 'info')).toBe(true)
  })

  it('answers KeySetUnavailable (503, not 401) when no keys were ever fetched', async () => {
    const server = await serve([current.publicJwk])
    await server.stop()
    const { validator } = remote(server, { timeoutMs: 500 })
    const error = await validator
      .validate(await signAccessToken(current))
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(KeySetUnavailable)
    expect((error as KeySetUnavailable).status).toBe(503)
  })

  it('does not trust the issuer certificate without the configured CA', async () => {
    const server = await serve([current.publicJwk])
    const jwks = createRemoteJwks({ uri: server.uri, logger: recordingLogger() })
    const validator = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      keySet: jwks,
    })
    await expect(validator.validate(await signAccessToken(current))).rejects.toBeInstanceOf(
      KeySetUnavailable,
    )
    expect(server.requests).toBe(0)
  })

  it.each([
    ['an error status', { status: 500 }],
    ['a redirect (never followed)', { status: 302 }],
    ['an HTML content type', { contentType: 'text/html' }],
    ['invalid JSON', { body: '{"keys": [' }],
    ['a document without keys', { body: '{"nokeys": []}' }],
    ['an oversized document', { body: JSON.stringify({ keys: [], pad: 'x'.repeat(300_000) }) }],
  ] as [string, Partial<JwksServer>][])('treats %s as a failed fetch', async (_name, change) => {
    const server = await serve([current.publicJwk])
    Object.assign(server, change)
    const { validator, logger } = remote(server)
    await expect(validator.validate(await signAccessToken(current))).rejects.toBeInstanceOf(
      KeySetUnavailable,
    )
    expect(logger.lines.some((line) => line.level === 'warn')).toBe(true)
  })

  it('skips unusable keys (symmetric, private, encryption-only) and never fetches jku or x5u', async () => {
    const attackerServer = await serve([next.publicJwk])
    const { d: _d, ...rest } = { ...current.publicJwk, d: 'private' }
    const server = await serve([
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
      { ...next.publicJwk, kid: 'enc-only', use: 'enc' },
      { ...next.publicJwk, kid: 'with-private', d: 'AAAA' },
      rest,
    ])
    const { validator, jwks, logger } = remote(server, { cooldownMs: 0 })
    await validator.validate(await signAccessToken(current))
    expect(jwks.status().kids).toEqual(['key-2026-01'])
    expect(logger.lines.filter((line) => /skipped/.test(line.message))).toHaveLength(3)
    const hostile = await signAccessToken(next, {
      header: { kid: 'key-2026-02', jku: attackerServer.uri, x5u: attackerServer.uri },
    })
    await expect(validator.validate(hostile)).rejects.toBeInstanceOf(UnknownKeyId)
    const swapped = await signAccessToken(next, {
      header: { kid: 'key-2026-01', jku: attackerServer.uri },
    })
    await expect(validator.validate(swapped)).rejects.toBeInstanceOf(InvalidSignature)
    expect(attackerServer.requests).toBe(0)
  })

  it('refuses unsafe options at creation', () => {
    expect(() => createRemoteJwks({ uri: 'http://127.0.0.1/jwks' })).toThrow(/https/)
    expect(() => createRemoteJwks({ uri: 'https://user:pw@127.0.0.1/jwks' })).toThrow(/credentials/)
    expect(() => createRemoteJwks({ uri: 'https://127.0.0.1/jwks', cooldownMs: -1 })).toThrow(
      TypeError,
    )
    expect(() =>
      createRemoteJwks({ uri: 'https://127.0.0.1/jwks', minCacheMs: 10, maxCacheMs: 5 }),
    ).toThrow(TypeError)
  })
})

describe('parseCacheControlMaxAge', () => {
  it.each([
    [undefined, undefined],
    ['max-age=300', 300_000],
    ['public, MAX-AGE=60, must-revalidate', 60_000],
    ['no-store', 0],
    ['no-cache, max-age=600', 0],
    ['max-age=-5', undefined],
    ['max-age=abc', undefined],
    ['s-maxage=100', undefined],
  ])('%s → %s', (header, expected) => {
    expect(parseCacheControlMaxAge(header)).toBe(expected)
  })
})
