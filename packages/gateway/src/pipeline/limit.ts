import type { RateLimitPolicy } from '../config/schema.js'
import { RateLimited } from '../errors.js'
import type { RateLimitCounters } from '../state/types.js'
import type { MatchedRequest, Principal } from './types.js'

interface ScopedPolicy extends RateLimitPolicy {
  /** `global` or the route id: where the bucket lives. */
  readonly scope: string
}

/**
 * Token-bucket rate limits: the global policies, then the route's. Keys are the authenticated
 * client id or subject (falling back to the client IP when the request has none) or the client IP
 * — which comes from forwarding headers only when the peer is a trusted proxy. A refusal answers
 * 429 with Retry-After and the IETF RateLimit / RateLimit-Policy fields
 * (draft-ietf-httpapi-ratelimit-headers).
 */
export function createLimiter(
  globalPolicies: readonly RateLimitPolicy[],
  routePolicies: readonly RateLimitPolicy[],
  routeId: string,
  counters: RateLimitCounters,
): (req: MatchedRequest, who: Principal) => Promise<void> {
  const policies: ScopedPolicy[] = [
    ...globalPolicies.map((policy) => ({ ...policy, scope: 'global' })),
    ...routePolicies.map((policy) => ({ ...policy, scope: routeId })),
  ]
  if (policies.length === 0) return noLimit
  return async function limit(req, who) {
    for (const policy of policies) {
      const key = `${policy.scope}|${policy.name}|${bucketKey(policy, req, who)}`
      const decision = await counters.take(key, policy.limit, policy.windowSeconds)
      if (!decision.allowed) {
        throw new RateLimited(policy.name, decision.retryAfterSeconds, {
          'ratelimit-policy': `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`,
          ratelimit: `"${policy.name}";r=${decision.remaining};t=${decision.retryAfterSeconds}`,
        })
      }
    }
  }
}

async function noLimit(): Promise<void> {}

function bucketKey(policy: RateLimitPolicy, req: MatchedRequest, who: Principal): string {
  switch (policy.key) {
    case 'client':
      return who.clientId === undefined ? `ip:${req.clientIp}` : `client:${who.clientId}`
    case 'subject':
      return who.subject === undefined ? `ip:${req.clientIp}` : `sub:${who.subject}`
    case 'ip':
      return `ip:${req.clientIp}`
    case 'route':
      return 'all'
  }
}
