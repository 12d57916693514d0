import type { RateLimitPolicy } from '../config/schema.js'
import { RateLimited } from '../errors.js'
import type { RateLimitCounters } from '../state/types.js'
import type { MatchedRequest, Principal } from './types.js'

interface ScopedPolicy extends RateLimitPolicy {
  /** `global` or the route id: where the bucket lives. */
  readonly scope: string
}

export interface Limiter {
  /**
   * Policies keyed by client IP or by route run before authentication, so a flood of made-up
   * tokens is stopped before it costs a signature check or an introspection call.
   */
  beforeAuthentication(req: MatchedRequest): Promise<void>
  /** Policies keyed by client id or subject run once the principal is known. */
  afterAuthentication(req: MatchedRequest, who: Principal): Promise<void>
}

/**
 * Token-bucket rate limits: the global policies, then the route's. Keys are the authenticated
 * client id or subject (falling back to the client IP when the request has none), the client IP
 * — which comes from forwarding headers only when the peer is a trusted proxy — or the route.
 * A refusal answers 429 with Retry-After and the IETF RateLimit / RateLimit-Policy fields
 * (draft-ietf-httpapi-ratelimit-headers).
 */
export function createLimiter(
  globalPolicies: readonly RateLimitPolicy[],
  routePolicies: readonly RateLimitPolicy[],
  routeId: string,
  counters: RateLimitCounters,
): Limiter {
  const policies: ScopedPolicy[] = [
    ...globalPolicies.map((policy) => ({ ...policy, scope: 'global' })),
    ...routePolicies.map((policy) => ({ ...policy, scope: routeId })),
  ]
  const early = policies.filter((policy) => policy.key === 'ip' || policy.key === 'route')
  const late = policies.filter((policy) => policy.key === 'client' || policy.key === 'subject')
  async function take(policy: ScopedPolicy, req: MatchedRequest, who: Principal | undefined) {
    const key = `${policy.scope}|${policy.name}|${bucketKey(policy, req, who)}`
    const decision = await counters.take(key, policy.limit, policy.windowSeconds)
    if (!decision.allowed) {
      throw new RateLimited(policy.name, decision.retryAfterSeconds, {
        'ratelimit-policy': `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`,
        ratelimit: `"${policy.name}";r=${decision.remaining};t=${decision.retryAfterSeconds}`,
      })
    }
  }
  return {
    beforeAuthentication:
      early.length === 0
        ? noLimit
        : async function limitByAddress(req) {
            for (const policy of early) await take(policy, req, undefined)
          },
    afterAuthentication:
      late.length === 0
        ? noLimit
        : async function limitByPrincipal(req, who) {
            for (const policy of late) await take(policy, req, who)
          },
  }
}

async function noLimit(): Promise<void> {}

function bucketKey(
  policy: RateLimitPolicy,
  req: MatchedRequest,
  who: Principal | undefined,
): string {
  switch (policy.key) {
    case 'client':
      return who?.clientId === undefined ? `ip:${req.clientIp}` : `client:${who.clientId}`
    case 'subject':
      return who?.subject === undefined ? `ip:${req.clientIp}` : `sub:${who.subject}`
    case 'ip':
      return `ip:${req.clientIp}`
    case 'route':
      return 'all'
  }
}
