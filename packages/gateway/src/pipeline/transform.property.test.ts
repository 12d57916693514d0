import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Route } from '../config/schema.js'
import { createTransformer } from './transform.js'
import type { CompiledRoute, MatchedRequest, Principal } from './types.js'

const PUBLIC_HOST = 'api.gatehouse.test'
const SPOOF = 'spoofed-by-the-client'
/** Fields only the gateway may set for an upstream (identity, address, request id, hop-by-hop). */
const OWNED = [
  'authorization',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'x-request-id',
  'x-gatehouse-subject',
  'x-gatehouse-client-id',
  'x-gatehouse-anything',
]
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'transfer-encoding',
  'host',
]

function route(method: 'public' | 'jwt'): Route {
  return Route.parse({
    id: 'r',
    match: { path: '/orders/**', methods: ['GET', 'POST'] },
    upstream: 'orders',
    auth:
      method === 'public' ? { method } : { method, issuer: 'main', audience: 'https://api.test' },
  })
}

/** Client headers as node:http hands them over (lower-case names), hostile ones mixed in. */
const CLIENT_HEADERS = fc
  .tuple(
    fc.subarray([...OWNED, ...HOP_BY_HOP, 'cookie']),
    fc.dictionary(
      fc.stringMatching(/^[a-z0-9-]{1,16}$/),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      ),
      { maxKeys: 6 },
    ),
    fc.array(fc.constantFrom('x-api-key', 'accept', 'x-custom', 'keep-alive', 'close'), {
      maxLength: 3,
    }),
  )
  .map(([owned, extra, connection]) => {
    const headers: IncomingHttpHeaders = { ...extra }
    for (const name of owned) headers[name] = SPOOF
    if (connection.length > 0) headers.connection = connection.join(', ')
    return headers
  })
const CLIENT_IP = fc.oneof(fc.ipV4(), fc.ipV6())

function matched(headers: IncomingHttpHeaders, clientIp: string): MatchedRequest {
  return {
    requestId: 'req-1',
    // The transformer never reads the compiled route; a real one needs upstream pools and validators.
    route: undefined as unknown as CompiledRoute,
    method: 'GET',
    path: '/orders/1',
    query: '?page=2',
    headers,
    clientIp,
    peerIp: clientIp,
    body: Readable.from([]),
    hasBody: false,
  }
}

function principal(jwt: string | null): Principal {
  return {
    subject: 's',
    clientId: 'c',
    scopes: new Set(),
    jwt,
    tokenId: undefined,
    tokenHash: undefined,
  }
}

describe('the upstream request (properties)', () => {
  it('never carries a value the client sent for a field the gateway owns, on any route', () => {
    fc.assert(
      fc.property(CLIENT_HEADERS, CLIENT_IP, fc.boolean(), (headers, clientIp, isPublic) => {
        const transform = createTransformer(route(isPublic ? 'public' : 'jwt'), PUBLIC_HOST)
        const out = transform(matched(headers, clientIp), principal(isPublic ? null : 'h.p.s'))
        for (const [name, value] of Object.entries(out.headers)) {
          if (
            OWNED.includes(name) ||
            HOP_BY_HOP.includes(name) ||
            name.startsWith('x-gatehouse-')
          ) {
            expect(value).not.toContain(SPOOF)
          }
        }
        expect(out.headers.authorization).toBe(isPublic ? undefined : 'Bearer h.p.s')
        expect(out.headers['x-request-id']).toBe('req-1')
        expect(out.headers['x-forwarded-for']).toBe(clientIp)
        const forFor = clientIp.includes(':') ? `"[${clientIp}]"` : clientIp
        expect(out.headers.forwarded).toBe(`for=${forFor};proto=https;host="${PUBLIC_HOST}"`)
        if (!isPublic) expect(out.headers.cookie).toBeUndefined()
        // A field the client listed in Connection is hop-by-hop for this request (RFC 9110 §7.6.1).
        for (const token of String(headers.connection ?? '').split(',')) {
          const name = token.trim()
          if (name !== '' && name in headers) expect(out.headers[name]).toBeUndefined()
        }
        expect(out.path).toBe('/orders/1?page=2')
      }),
      { numRuns: 1000 },
    )
  })
})
