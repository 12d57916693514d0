import { createHash } from 'node:crypto'

/** The key under which a token is cached or announced (full SHA-256, base64url): never the token. */
export function tokenCacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** What logs and audit events may hold about a token: the first 8 hex chars of its SHA-256. */
export function tokenLogHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8)
}
