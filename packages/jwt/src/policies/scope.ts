import { InsufficientScope } from '../errors.js'
import type { VerifiedToken } from '../types.js'

/** True when the token carries every one of `scopes`. */
export function hasScopes(
  token: Pick<VerifiedToken, 'scopes'>,
  ...scopes: readonly string[]
): boolean {
  for (const scope of scopes) if (!token.scopes.has(scope)) return false
  return true
}

/**
 * Throws `InsufficientScope` (403, RFC 6750 §3.1) unless the token carries every one of `scopes`.
 * The error names all the scopes the request needs, for the `scope` auth-param.
 */
export function requireScopes(
  token: Pick<VerifiedToken, 'scopes'>,
  ...scopes: readonly string[]
): void {
  if (scopes.length === 0) throw new TypeError('requireScopes needs at least one scope')
  if (!hasScopes(token, ...scopes)) throw new InsufficientScope(scopes)
}
