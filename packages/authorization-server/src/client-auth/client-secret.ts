import { constantTimeEqual } from '../tokens/constant-time-equal.js'
import { tokenHash } from '../tokens/token-hash.js'

// Compared against when the client is unknown, so an unknown client id costs the same work as a
// wrong secret (no client-id enumeration by timing).
const DUMMY_HASH = tokenHash('gatehouse-unknown-client')

/** Checks a presented client secret against its stored SHA-256 in constant time. */
export function verifyClientSecret(presented: string, storedHash: string | null): boolean {
  const ok = constantTimeEqual(tokenHash(presented), storedHash ?? DUMMY_HASH)
  return ok && storedHash !== null
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
