import { describe, expect, it } from 'vitest'
import { createMemoryPhantomCache, createMemoryRateLimits } from './memory.js'

describe('memory token buckets', () => {
  it('allows the capacity at once, then refills at capacity per window', async () => {
    let clock = 0
    const buckets = createMemoryRateLimits(100, () => clock)
    const take = () => buckets.take('k', 3, 60)
    expect((await take()).allowed).toBe(true)
    expect((await take()).allowed).toBe(true)
    const third = await take()
    expect(third).toMatchObject({ allowed: true, remaining: 0 })
    const refused = await take()
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 20 })
    clock += 20_000 // one token per 20 s
    expect((await take()).allowed).toBe(true)
    expect((await take()).allowed).toBe(false)
  })

  it('keeps keys apart and stays bounded (an evicted idle bucket restarts full)', async () => {
    const buckets = createMemoryRateLimits(2, () => 0)
    await buckets.take('a', 1, 60)
    expect((await buckets.take('a', 1, 60)).allowed).toBe(false)
    await buckets.take('b', 1, 60)
    await buckets.take('c', 1, 60)
    expect((await buckets.take('a', 1, 60)).allowed).toBe(true)
  })
})

describe('memory phantom cache', () => {
  const entry = {
    jwt: 'h.p.s',
    tokenId: 'jti-1',
    subject: 's',
    clientId: 'c',
    scope: 'a',
    audiences: ['x'],
    expiresAt: 10_000,
  }

  it('expires entries after their ttl and evicts by hash or by jti', async () => {
    let clock = 1_000_000
    const cache = createMemoryPhantomCache(10, () => clock)
    await cache.set('h1', entry, 5)
    expect(await cache.get('h1')).toEqual(entry)
    clock += 6_000
    expect(await cache.get('h1')).toBeUndefined()
    await cache.set('h2', entry, 60)
    await cache.evict({ tokenId: 'jti-1' })
    expect(await cache.get('h2')).toBeUndefined()
    await cache.set('h3', 'inactive', 5)
    await cache.evict({ tokenHash: 'h3' })
    expect(await cache.get('h3')).toBeUndefined()
  })

  it('is bounded: the least recently used entry goes first', async () => {
    const cache = createMemoryPhantomCache(2, () => 1_000_000)
    await cache.set('a', entry, 60)
    await cache.set('b', entry, 60)
    await cache.get('a')
    await cache.set('c', entry, 60)
    expect(await cache.get('b')).toBeUndefined()
    expect(cache.size).toBe(2)
  })
})
