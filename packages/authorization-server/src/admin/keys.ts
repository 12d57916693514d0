import type { AuthorizationServerConfig } from '../config/schema.js'
import type { AuthorizationServerSecrets } from '../config/secrets.js'
import { keyRotationPolicy } from '../create-server.js'
import { createKeyEncryption } from '../keys/key-encryption.js'
import { type RotationResult, rotateSigningKeys } from '../keys/signing-keys.js'
import type { AuthorizationServerStore } from '../store/store.js'

/**
 * `gatehouse keys rotate`: activates the published next key, retires the active one and
 * publishes a new next key. Refuses while the next key is younger than the JWKS max-age unless
 * `force` (an emergency after a key compromise).
 */
export async function rotateKeys(
  store: AuthorizationServerStore,
  config: AuthorizationServerConfig,
  secrets: AuthorizationServerSecrets,
  options: { readonly now?: number; readonly force?: boolean } = {},
): Promise<RotationResult> {
  return rotateSigningKeys(
    store,
    createKeyEncryption(secrets.keyEncryptionKey),
    keyRotationPolicy(config),
    {
      now: options.now ?? Date.now(),
      ...(options.force === undefined ? {} : { force: options.force }),
    },
  )
}

/** The keys as the admin API shows them: public parts and lifecycle only. */
export async function listKeys(
  store: AuthorizationServerStore,
): Promise<Record<string, unknown>[]> {
  return (await store.listSigningKeys()).map((key) => ({
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    createdAt: key.createdAt,
    activatedAt: key.activatedAt,
    retiredAt: key.retiredAt,
    publishUntil: key.publishUntil,
    publicJwk: key.publicJwk,
  }))
}
