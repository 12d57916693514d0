import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { RateLimited } from '../errors.js'
import { createMemoryRateLimits } from '../state/memory.js'
import { createLimiter } from './limit.js'
import type { MatchedRequest, Principal } from './types.js'

function request(clientIp: string): MatchedRequest {
  return {
    requestId: 'r',
    route: {} as MatchedRequest['route'],
    method: 'GET',
    path: '/x',
    query: '',
    headers: {},
    clientIp,
    peerIp: clientIp,
    body: new PassThrough(),
    hasBody: false,
  }
}

function who(clientId?: string, subject?: string): Principal {
  return {
    clientId,
    subject,
    scopes: new Set(),
    jwt: null,
    tokenId: undefined,
    tokenHash: undefined,
  }
}

async function refusal(run: () => Promise<void>): Promise<RateLimited | undefined> {
  try {
    await run()
  } catch (error) {
    if (error instanceof RateLimited) return error
    throw error
  }
  return undefined
}

describe('limit', () => {
  it('checks address limits before authentication and principal limits after, each in its own bucket', async () => {
    const counters = createMemoryRateLimits(100, () => 1_000_000)
    const limiter = createLimiter(
      [{ name: 'global-ip', key: 'ip', limit: 3, windowSeconds: 60 }],
      [{ name: 'route-client', key: 'client', limit: 1, windowSeconds: 60 }],
      'orders',
      counters,
    )
    const limit = async (req: MatchedRequest, principal: Principal) => {
      await limiter.beforeAuthentication(req)
      await limiter.afterAuthentication(req, principal)
    }
    await limit(request('192.0.2.1'), who('a'))
    const routeRefusal = await refusal(() => limit(request('192.0.2.1'), who('a')))
    expect(routeRefusal?.policy).toBe('route-client')
    await limit(request('192.0.2.1'), who('b'))
    // The address bucket has now seen three requests (one of them refused by the client limit).
    const globalRefusal = await refusal(() => limiter.beforeAuthentication(request('192.0.2.1')))
    expect(globalRefusal?.policy).toBe('global-ip')
    expect(globalRefusal?.headers).toMatchObject({
      'retry-after': '20',
      'ratelimit-policy': '"global-ip";q=3;w=60',
      ratelimit: '"global-ip";r=0;t=20',
    })
  })

  it('falls back to the client IP when a request has no client id or subject', async () => {
    const counters = createMemoryRateLimits(100, () => 1_000_000)
    const limit = createLimiter(
      [],
      [{ name: 'per-client', key: 'client', limit: 1, windowSeconds: 60 }],
      'r',
      counters,
    ).afterAuthentication
    await limit(request('192.0.2.1'), who())
    expect(await refusal(() => limit(request('192.0.2.1'), who()))).toBeInstanceOf(RateLimited)
    await limit(request('192.0.2.2'), who())
  })

  it('shares one bucket per route with key "route"', async () => {
    const counters = createMemoryRateLimits(100, () => 1_000_000)
    const limit = createLimiter(
      [],
      [{ name: 'all', key: 'route', limit: 2, windowSeconds: 60 }],
      'r',
      counters,
    ).beforeAuthentication
    await limit(request('192.0.2.1'))
    await limit(request('192.0.2.2'))
    expect(await refusal(() => limit(request('192.0.2.3')))).toBeInstanceOf(RateLimited)
  })
})
