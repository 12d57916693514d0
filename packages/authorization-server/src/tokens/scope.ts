import { SCOPE_TOKEN } from '../config/schema.js'
import { InvalidScope, InvalidTarget } from '../errors.js'
import type { ClientRecord } from '../store/store.js'

export const OPENID_SCOPES = ['openid', 'offline_access'] as const

/** Parses a `scope` parameter (RFC 6749 §3.3): space-delimited, no repeats, valid characters. */
export function parseScope(value: string): string[] {
  const scopes = value.split(' ')
  if (scopes.some((scope) => !SCOPE_TOKEN.test(scope))) {
    throw new InvalidScope('the scope parameter is malformed', 'scope.malformed')
  }
  if (new Set(scopes).size !== scopes.length) {
    throw new InvalidScope('a scope is repeated', 'scope.repeated')
  }
  return scopes
}

/**
 * The scopes to grant: the requested ones when every one is known and allowed for the client
 * (otherwise `invalid_scope`, never a silent reduction), or the client's registered scopes when
 * none were requested (RFC 6749 §3.3), without the OpenID ones.
 */
export function grantScopes(
  requested: string | undefined,
  client: ClientRecord,
  known: ReadonlySet<string>,
  ceiling: readonly string[] = client.scopes,
): string[] {
  if (requested === undefined) {
    return ceiling.filter((scope) => !(OPENID_SCOPES as readonly string[]).includes(scope))
  }
  const scopes = parseScope(requested)
  for (const scope of scopes) {
    if (!known.has(scope) || !ceiling.includes(scope) || !client.scopes.includes(scope)) {
      throw new InvalidScope('a requested scope is not allowed', 'scope.not_allowed')
    }
  }
  return scopes
}

/**
 * RFC 8707: the audience of the token. One `resource` per token (several would make one token
 * valid at several APIs: audience confusion); it must be an absolute URI without a fragment and
 * registered for the client. Without one, the client's default audience.
 */
export function resolveAudience(
  resources: readonly string[] | undefined,
  client: ClientRecord,
  ceiling: readonly string[] = client.audiences,
): string[] {
  if (resources === undefined || resources.length === 0) {
    const fallback = ceiling[0]
    if (fallback === undefined) {
      throw new InvalidTarget('no audience is registered for this client', 'resource.none')
    }
    return [fallback]
  }
  if (resources.length > 1) {
    throw new InvalidTarget('request one resource per token', 'resource.multiple')
  }
  const resource = resources[0] ?? ''
  let url: URL
  try {
    url = new URL(resource)
  } catch {
    throw new InvalidTarget('the resource must be an absolute URI', 'resource.malformed')
  }
  if (url.hash !== '' || resource.includes('#')) {
    throw new InvalidTarget('the resource must not have a fragment', 'resource.fragment')
  }
  if (!client.audiences.includes(resource) || !ceiling.includes(resource)) {
    throw new InvalidTarget('the resource is not allowed for this client', 'resource.not_allowed')
  }
  return [resource]
}
