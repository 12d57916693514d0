import { randomBytes } from 'node:crypto'
import { compactVerify, createLocalJWKSet, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createSqliteStore } from '../store/sqlite.js'
import { T0 } from '../test-support/store-contract.js'
import { createKeyEncryption } from './key-encryption.js'
import {
  createKeyRing,
  ensureSigningKeys,
  type KeyRotationPolicy,
  KeyRotationTooEarly,
  rotateSigningKeys,
  type SigningAlgorithm,
} from './signing-keys.js'

const MINUTE = 60_000
const policy: KeyRotationPolicy = {
  algorithm: 'ES256',
  publishAheadMs: 5 * MINUTE,
  retainRetiredMs: 15 * MINUTE,
}

async function setup(algorithm: SigningAlgorithm = 'ES256') {
  const store = createSqliteStore({ path: ':memory:' })
  const encryption = createKeyEncryption(randomBytes(32))
  let now = T0
  const clock = { now: () => now, set: (value: number) => (now = value) }
  await ensureSigningKeys(store, encryption, { ...policy, algorithm }, now)
  const ring = createKeyRing(store, encryption, { now: clock.now, refreshMs: 0 })
  return { store, encryption, clock, ring }
}

async function sign(ring: Awaited<ReturnType<typeof setup>>['ring']): Promise<string> {
  const { kid, alg, key } = await ring.signingKey()
  return new SignJWT({ sub: 'x' }).setProtectedHeader({ alg, kid }).sign(key)
}

describe('signing keys and rotation', () => {
  it('starts with an active key and a next key already published', async () => {
    const { store, ring } = await setup()
    const keys = await store.listSigningKeys()
    expect(keys.map((key) => key.state).sort()).toEqual(['active', 'next'])
    const jwks = await ring.jwks()
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual(keys.map((key) => key.kid).sort())
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true)
    const active = keys.find((key) => key.state === 'active')
    expect(active?.encryptedPrivateJwk).toMatch(/^v1\./)
  })

  for (const algorithm of ['ES256', 'EdDSA', 'RS256', 'PS256'] as const) {
    it(`signs with ${algorithm} and the JWKS verifies it`, async () => {
      const { ring } = await setup(algorithm)
      const jws = await sign(ring)
      const verified = await compactVerify(jws, createLocalJWKSet(await ring.jwks()))
      expect(verified.protectedHeader.alg).toBe(algorithm)
    })
  }

  it('refuses to sign with a next key that verifiers may not have fetched yet', async () => {
    const { store, encryption, clock } = await setup()
    clock.set(T0 + MINUTE)
    await expect(
      rotateSigningKeys(store, encryption, policy, { now: clock.now() }),
    ).rejects.toThrow(KeyRotationTooEarly)
    await expect(
      rotateSigningKeys(store, encryption, policy, { now: clock.now(), force: true }),
    ).resolves.toMatchObject({ retired: expect.any(String) })
  })

  it('signs with the published next key, keeps the retired key until its tokens expired, then drops it', async () => {
    const { store, encryption, clock, ring } = await setup()
    const before = await sign(ring)
    const oldKid = (await ring.signingKey()).kid
    const nextKid = (await store.listSigningKeys()).find((key) => key.state === 'next')?.kid
    clock.set(T0 + 6 * MINUTE)
    const result = await rotateSigningKeys(store, encryption, policy, { now: clock.now() })
    expect(result).toMatchObject({ activated: nextKid, retired: oldKid })
    ring.invalidate()
    expect((await ring.signingKey()).kid).toBe(nextKid)
    // A token signed before the rotation still verifies against the published set.
    await expect(compactVerify(before, createLocalJWKSet(await ring.jwks()))).resolves.toBeTruthy()
    const kids = (await ring.jwks()).keys.map((key) => key.kid)
    expect(kids).toContain(oldKid)
    expect(kids).toContain(result.published)
    // After the retention window the retired key leaves the JWKS and the sweep deletes it.
    clock.set(T0 + 6 * MINUTE + 15 * MINUTE)
    ring.invalidate()
    expect((await ring.jwks()).keys.map((key) => key.kid)).not.toContain(oldKid)
    expect((await store.sweepExpired(clock.now())).keys).toBe(1)
  })
})
