import { hash } from 'node:crypto'

/** The key under which a token is cached or announced (full SHA-256, base64url): never the token. */
export function tokenCacheKey(token: string): string {
  return hash('sha256', token, 'base64url')
}

/**
 * What logs and audit events may hold about a token: the first 8 hex chars of its SHA-256.
 * One-shot `crypto.hash` (Node ≥ 20.12): it runs on every authenticated request, and a
 * `createHash` object costs several times more.
 */
export function tokenLogHash(token: string): string {
  return hash('sha256', token, 'hex').slice(0, 8)
}
