import { createHash } from 'node:crypto'

/**
 * The lookup key of a token or secret at rest: SHA-256, base64url. A fast hash is right here
 * because every value hashed is a ≥ 256-bit random string (no dictionary to attack), and it keeps
 * the client-credentials and introspection hot paths free of a slow KDF. Gateways hash opaque
 * tokens the same way for their caches and revocation events.
 */
export function tokenHash(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}
