import type { JSONWebKeySet } from 'jose'
import { createKeyIndex } from './internal/key-index.js'
import type { KeySet, Logger } from './types.js'

/**
 * A key set held in memory, for services that are given the issuer's public keys in their
 * configuration instead of fetching them. The same key rules apply as for a remote set: only
 * public asymmetric signing keys, each bound to the algorithms its type allows.
 */
export function createLocalJwks(
  jwks: JSONWebKeySet | { keys: readonly object[] },
  logger?: Logger,
): KeySet {
  const index = createKeyIndex(jwks, logger)
  if (index.size === 0) throw new TypeError('the local JWK Set has no usable public signing keys')
  return {
    getKey: (header) => index.select(header),
    getKeySync: (header) => index.selectSync(header),
  }
}
