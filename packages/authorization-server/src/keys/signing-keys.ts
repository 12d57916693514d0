import { randomUUID } from 'node:crypto'
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { AuthorizationServerStore, SigningKeyRecord } from '../store/store.js'
import type { KeyEncryption } from './key-encryption.js'

export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]

export interface KeyRotationPolicy {
  readonly algorithm: SigningAlgorithm
  /** The next key is in the JWKS at least this long before it signs: ≥ the JWKS max-age. */
  readonly publishAheadMs: number
  /** A retired key stays in the JWKS this long: ≥ the longest token lifetime it could have signed. */
  readonly retainRetiredMs: number
}

export class KeyRotationTooEarly extends Error {
  constructor(readonly notBefore: number) {
    super(
      `the next signing key has not been published long enough to be used; rotate at or after ${new Date(notBefore).toISOString()} or force`,
    )
    this.name = 'KeyRotationTooEarly'
  }
}

export async function generateSigningKey(
  algorithm: SigningAlgorithm,
  encryption: KeyEncryption,
  now: number,
  state: 'next' | 'active',
): Promise<SigningKeyRecord> {
  const kid = randomUUID()
  const { privateKey, publicKey } = await generateKeyPair(
    algorithm === 'EdDSA' ? 'Ed25519' : algorithm,
    {
      extractable: true,
      ...(algorithm.startsWith('RS') || algorithm.startsWith('PS') ? { modulusLength: 2048 } : {}),
    },
  )
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' }
  const privateJwk = await exportJWK(privateKey)
  return {
    kid,
    alg: algorithm,
    publicJwk,
    encryptedPrivateJwk: encryption.encrypt(JSON.stringify(privateJwk), kid),
    state,
    createdAt: now,
    activatedAt: state === 'active' ? now : null,
    retiredAt: null,
    publishUntil: null,
  }
}

/** Makes sure there is an active key and a published next key (first start, or after a wipe). */
export async function ensureSigningKeys(
  store: AuthorizationServerStore,
  encryption: KeyEncryption,
  policy: KeyRotationPolicy,
  now: number,
): Promise<void> {
  const keys = await store.listSigningKeys()
  const created: SigningKeyRecord[] = []
  if (!keys.some((key) => key.state === 'active')) {
    created.push(await generateSigningKey(policy.algorithm, encryption, now, 'active'))
  }
  if (!keys.some((key) => key.state === 'next')) {
    created.push(await generateSigningKey(policy.algorithm, encryption, now, 'next'))
  }
  if (created.length > 0) await store.saveSigningKeys({ created, updated: [] })
}

export interface RotationResult {
  readonly activated: string
  readonly retired: string | null
  readonly published: string
}

/**
 * Rotates the signing keys: the published next key starts signing, the active key retires (it
 * stays in the JWKS until every token it signed has expired) and a new next key is published.
 * Refuses (KeyRotationTooEarly) while the next key is younger than `publishAheadMs`, because
 * verifiers holding a cached JWKS would not know it yet; `force` overrides for emergencies.
 */
export async function rotateSigningKeys(
  store: AuthorizationServerStore,
  encryption: KeyEncryption,
  policy: KeyRotationPolicy,
  options: { readonly now: number; readonly force?: boolean },
): Promise<RotationResult> {
  const { now } = options
  await ensureSigningKeys(store, encryption, policy, now)
  const keys = await store.listSigningKeys()
  const next = keys.find((key) => key.state === 'next')
  const active = keys.filter((key) => key.state === 'active')
  if (next === undefined) throw new Error('no next signing key to activate')
  const notBefore = next.createdAt + policy.publishAheadMs
  if (now < notBefore && options.force !== true) throw new KeyRotationTooEarly(notBefore)
  const updated: SigningKeyRecord[] = [
    { ...next, state: 'active', activatedAt: now },
    ...active.map(
      (key): SigningKeyRecord => ({
        ...key,
        state: 'retired',
        retiredAt: now,
        publishUntil: now + policy.retainRetiredMs,
      }),
    ),
  ]
  const published = await generateSigningKey(policy.algorithm, encryption, now, 'next')
  await store.saveSigningKeys({ created: [published], updated })
  return { activated: next.kid, retired: active[0]?.kid ?? null, published: published.kid }
}

export interface ActiveSigningKey {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly key: CryptoKey
}

export interface KeyRing {
  /** The key to sign with now. */
  signingKey(): Promise<ActiveSigningKey>
  /** The public keys to publish: next, active and retired-but-still-needed. */
  jwks(): Promise<{ keys: JWK[] }>
  /** Drops the cached view, so the next call reads the store (after a rotation). */
  invalidate(): void
}

/**
 * A cached view of the signing keys. The store is re-read at most every `refreshMs`, so several
 * instances sharing one store converge on a rotation without a restart.
 */
export function createKeyRing(
  store: AuthorizationServerStore,
  encryption: KeyEncryption,
  options: { readonly now: () => number; readonly refreshMs?: number },
): KeyRing {
  const refreshMs = options.refreshMs ?? 10_000
  let loadedAt = Number.NEGATIVE_INFINITY
  let loading: Promise<{ active: ActiveSigningKey; jwks: { keys: JWK[] } }> | null = null
  let view: { active: ActiveSigningKey; jwks: { keys: JWK[] } } | null = null
  const imported = new Map<string, CryptoKey>()

  async function load(): Promise<{ active: ActiveSigningKey; jwks: { keys: JWK[] } }> {
    const now = options.now()
    const keys = await store.listSigningKeys()
    const active = keys
      .filter((key) => key.state === 'active')
      .sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0]
    if (active === undefined) throw new Error('no active signing key in the store')
    let key = imported.get(active.kid)
    if (key === undefined) {
      const privateJwk = JSON.parse(
        encryption.decrypt(active.encryptedPrivateJwk, active.kid),
      ) as JWK
      key = (await importJWK(privateJwk, active.alg)) as CryptoKey
      imported.set(active.kid, key)
    }
    const published = keys.filter(
      (record) =>
        record.state !== 'retired' || (record.publishUntil !== null && record.publishUntil > now),
    )
    return {
      active: { kid: active.kid, alg: active.alg as SigningAlgorithm, key },
      jwks: { keys: published.map((record) => record.publicJwk as JWK) },
    }
  }

  async function current(): Promise<{ active: ActiveSigningKey; jwks: { keys: JWK[] } }> {
    if (view !== null && options.now() - loadedAt < refreshMs) return view
    if (loading === null) {
      loading = load()
        .then((loaded) => {
          view = loaded
          loadedAt = options.now()
          return loaded
        })
        .finally(() => {
          loading = null
        })
    }
    return loading
  }

  return {
    async signingKey() {
      return (await current()).active
    },
    async jwks() {
      return (await current()).jwks
    },
    invalidate() {
      view = null
    },
  }
}
