import type { AuthorizationServerConfig } from '../config/schema.js'

// Claims the server sets itself: a user attribute can never override them.
const RESERVED = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'auth_time',
  'acr',
  'amr',
  'azp',
  'nonce',
  'cnf',
  'typ',
  'at_hash',
  'c_hash',
  'sid',
  'act',
  'may_act',
  'active',
  'token_type',
  'username',
])

/**
 * The claims released by the granted scopes: for each scope, the attributes its configuration
 * names, when the user has them. Nothing else ends up in a token.
 */
export function releaseClaims(
  scopes: readonly string[],
  attributes: Readonly<Record<string, unknown>>,
  definitions: AuthorizationServerConfig['scopes'],
): Record<string, unknown> {
  const released: Record<string, unknown> = {}
  for (const scope of scopes) {
    for (const claim of definitions[scope]?.claims ?? []) {
      if (RESERVED.has(claim) || !Object.hasOwn(attributes, claim)) continue
      released[claim] = attributes[claim]
    }
  }
  return released
}

export function isReservedClaim(name: string): boolean {
  return RESERVED.has(name)
}
