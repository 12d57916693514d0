import { createHash, timingSafeEqual } from 'node:crypto'
import { tokenHash } from '../tokens/token-hash.js'

// Compared against when the client is unknown, so an unknown client id costs the same work as a
// wrong secret (no client-id enumeration by timing).
const DUMMY_HASH = tokenHash('gatehouse-unknown-client')
const DUMMY_DIGEST = Buffer.from(DUMMY_HASH, 'base64url')
const SHA256_BYTES = 32

/**
 * Checks a presented client secret against its stored SHA-256 (base64url, see `tokenHash`) in
 * constant time. The presented secret is hashed once, and the two 32-byte digests are compared
 * with `timingSafeEqual`: equal lengths by construction, so neither the secret's length nor where
 * the digests differ shows in the timing. (Comparing the base64url strings through
 * `constantTimeEqual` hashed both again: three SHA-256 per client authentication instead of one.)
 */
export function verifyClientSecret(presented: string, storedHash: string | null): boolean {
  const digest = createHash('sha256').update(presented).digest()
  const stored = Buffer.from(storedHash ?? DUMMY_HASH, 'base64url')
  // A stored value that is not a SHA-256 digest never matches (and costs the same comparison).
  const wellFormed = stored.length === SHA256_BYTES
  const ok = timingSafeEqual(digest, wellFormed ? stored : DUMMY_DIGEST)
  return ok && wellFormed && storedHash !== null
}

/**
 * RFC 6749 §2.3.1: the Basic credentials are the form-urlencoded client id and secret. Returns
 * null for anything malformed.
 */
export function parseBasicCredentials(
  header: string,
): { clientId: string; clientSecret: string } | null {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim())
  if (match === null) return null
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) return null
  try {
    const decode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '))
    const clientId = decode(decoded.slice(0, colon))
    const clientSecret = decode(decoded.slice(colon + 1))
    if (clientId === '' || clientSecret === '') return null
    return { clientId, clientSecret }
  } catch {
    return null
  }
}
