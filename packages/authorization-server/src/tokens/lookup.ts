import type { ServerContext } from '../context.js'
import type { TokenRecord } from '../store/store.js'
import { opaqueKindOf } from './opaque.js'
import { tokenHash } from './token-hash.js'

const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
// The signature part of a split token (ES256: 86 chars, RS256/PS256: 342, EdDSA: 86).
const SIGNATURE_SHAPE = /^[A-Za-z0-9_-]{64,1024}$/

/**
 * Finds the record of a presented access or refresh token by hash: one indexed lookup, never a
 * scan. A value that is neither a well-formed opaque token (checksum) nor JWS-shaped is refused
 * without touching the store.
 */
export async function findToken(ctx: ServerContext, token: string): Promise<TokenRecord | null> {
  if (token.length > 8_192) return null
  const kind = opaqueKindOf(token)
  if (
    kind !== 'access_token' &&
    kind !== 'refresh_token' &&
    !JWS_SHAPE.test(token) &&
    !SIGNATURE_SHAPE.test(token)
  ) {
    return null
  }
  return ctx.store.getTokenByHash(tokenHash(token))
}

/** Active: known, not revoked, not expired, and (refresh tokens) not already rotated. */
export function isActive(record: TokenRecord | null, now: number): record is TokenRecord {
  return (
    record !== null &&
    record.revokedAt === null &&
    record.expiresAt > now &&
    (record.kind === 'access_token' || record.usedAt === null)
  )
}
