import { describe, expect, it } from 'vitest'
import { createClientIpResolver } from './client-ip.js'

describe('client IP', () => {
  it('is the peer when no proxy is trusted, whatever the headers say', () => {
    const resolver = createClientIpResolver([])
    expect(resolver.resolve('::ffff:192.0.2.10', { 'x-forwarded-for': '1.1.1.1' })).toBe(
      '192.0.2.10',
    )
  })

  it('is the peer when the peer is not a trusted proxy', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8'])
    expect(
      resolver.resolve('192.0.2.10', { 'x-forwarded-for': '1.1.1.1', forwarded: 'for=2.2.2.2' }),
    ).toBe('192.0.2.10')
  })

  it('walks X-Forwarded-For from the right past trusted hops', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8'])
    expect(
      resolver.resolve('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.2.3.4' }),
    ).toBe('198.51.100.4')
  })

  it('reads RFC 7239 Forwarded, with quoted IPv6 and ports', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8'])
    expect(
      resolver.resolve('10.0.0.1', { forwarded: 'for="[2001:db8::7]:4711";proto=https' }),
    ).toBe('2001:db8::7')
    expect(resolver.resolve('10.0.0.1', { forwarded: 'for=198.51.100.9, for=10.0.0.2' })).toBe(
      '198.51.100.9',
    )
  })

  it('falls back to the peer when a hop is not an address (a forged "unknown" or garbage)', () => {
    const resolver = createClientIpResolver(['10.0.0.0/8'])
    expect(resolver.resolve('10.0.0.1', { 'x-forwarded-for': '1.1.1.1, not-an-ip' })).toBe(
      '10.0.0.1',
    )
  })

  it('matches IPv6 CIDRs for trusted proxies', () => {
    const resolver = createClientIpResolver(['fd00::/8'])
    expect(resolver.resolve('fd00::1', { 'x-forwarded-for': '2001:db8::1' })).toBe('2001:db8::1')
  })
})
