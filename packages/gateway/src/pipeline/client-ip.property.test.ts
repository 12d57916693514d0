import { isIP } from 'node:net'
import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createClientIpResolver, unmapIpv4 } from './client-ip.js'

/** Far above any honest call on these header sizes; a catastrophic pattern would blow through it. */
const GENEROUS_MS = 500
const TRUSTED = ['10.0.0.0/8', 'fd00::/8']
const resolver = createClientIpResolver(TRUSTED)

const UNTRUSTED_IP = fc.oneof(
  fc.ipV4().filter((ip) => !ip.startsWith('10.')),
  fc.ipV6().filter((ip) => !/^fd/i.test(ip) && isIP(ip) === 6),
)
const TRUSTED_IP = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`),
  fc.constantFrom('fd00::1', 'fd12:3456::9'),
)
/** What a client may write in a forwarding header: addresses, obfuscations and garbage. */
const HOP = fc.oneof(
  UNTRUSTED_IP,
  TRUSTED_IP,
  fc.constantFrom(
    'unknown',
    '_hidden',
    '127.0.0.1',
    '::ffff:10.0.0.1',
    '[::1]:80',
    '"[2001:db8::1]:4711"',
    '1.2.3.4:80',
    '0x7f.1',
    '017700000001',
    '1.2.3',
    ' ',
    '',
    ';',
    '"',
  ),
  fc.string({ maxLength: 20 }),
)
const XFF = fc.array(HOP, { maxLength: 12 }).map((hops) => hops.join(', '))
const FORWARDED = fc
  .array(fc.tuple(HOP, fc.constantFrom('for=', 'For=', 'for="', 'by=', 'proto=https;for=', '')), {
    maxLength: 8,
  })
  .map((pairs) =>
    pairs.map(([hop, key]) => `${key}${hop}${key.endsWith('"') ? '"' : ''}`).join(', '),
  )
/** Long runs of separators, so a super-linear header scan would show. */
const RUN = fc
  .tuple(
    fc.constantFrom(';', ' ', ',', 'for=', '"', ';for=[', 'for="['),
    fc.integer({ min: 0, max: 4000 }),
  )
  .map(([piece, count]) => piece.repeat(count))
const HEADERS = fc.record(
  { 'x-forwarded-for': fc.oneof(XFF, RUN), forwarded: fc.oneof(FORWARDED, RUN) },
  { requiredKeys: [] },
)

function resolve(peer: string, headers: Record<string, string>): string {
  const started = performance.now()
  const ip = resolver.resolve(peer, headers)
  expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  return ip
}

describe('client IP resolution (properties)', () => {
  it('from an untrusted peer, is always the peer, whatever the headers say', () => {
    fc.assert(
      fc.property(UNTRUSTED_IP, HEADERS, (peer, headers) => {
        expect(resolve(peer, headers)).toBe(unmapIpv4(peer))
      }),
      { numRuns: 2000 },
    )
  })

  it('from a trusted proxy, is the peer or a well-formed address the headers carry', () => {
    fc.assert(
      fc.property(TRUSTED_IP, HEADERS, (peer, headers) => {
        const ip = resolve(peer, headers)
        if (ip === peer) return
        expect(isIP(ip)).not.toBe(0)
        const text = `${headers['x-forwarded-for'] ?? ''} ${headers.forwarded ?? ''}`
        expect(text).toContain(ip)
      }),
      { numRuns: 2000 },
    )
  })

  it('cannot be chosen by a client prepending hops before the one its proxy appended', () => {
    fc.assert(
      fc.property(
        fc.array(HOP, { maxLength: 8 }),
        UNTRUSTED_IP,
        fc.array(TRUSTED_IP, { maxLength: 3 }),
        TRUSTED_IP,
        (spoofed, client, proxies, peer) => {
          const xff = [...spoofed, client, ...proxies].join(', ')
          expect(resolve(peer, { 'x-forwarded-for': xff })).toBe(unmapIpv4(client))
        },
      ),
      { numRuns: 2000 },
    )
  })
})
