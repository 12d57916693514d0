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
 * names (for an access token, the audience's own list when the scope defines one), when the user
 * has them. Nothing else ends up in a token.
 */
export function releaseClaims(
  scopes: readonly string[],
  attributes: Readonly<Record<string, unknown>>,
  definitions: AuthorizationServerConfig['scopes'],
  audience: readonly string[] = [],
): Record<string, unknown> {
  const released: Record<string, unknown> = {}
  for (const scope of scopes) {
    const definition = definitions[scope]
    if (definition === undefined) continue
    const perAudience = audience.flatMap((uri) => definition.audiences[uri] ?? [])
    const names = audience.some((uri) => uri in definition.audiences)
      ? perAudience
      : definition.claims
    for (const claim of names) {
      if (RESERVED.has(claim) || !Object.hasOwn(attributes, claim)) continue
      released[claim] = attributes[claim]
    }
  }
  return released
}

export function isReservedClaim(name: string): boolean {
  return RESERVED.has(name)
}
