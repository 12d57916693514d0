import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { MethodNotAllowed, RouteNotFound } from '../errors.js'
import { compilePathPattern, match, type RouteTable } from './match.js'
import type { CompiledRoute, RawRequest } from './types.js'

describe('path patterns', () => {
  it.each([
    ['/orders', '/orders', true],
    ['/orders', '/orders/', true],
    ['/orders', '/orders/1', false],
    ['/orders', '/ordersx', false],
    ['/orders/*', '/orders/1', true],
    ['/orders/*', '/orders/1/items', false],
    ['/orders/**', '/orders', true],
    ['/orders/**', '/orders/1/items', true],
    ['/orders/**', '/orders-admin', false],
    ['/**', '/anything/at/all', true],
  ])('%s against %s → %s', (pattern, path, expected) => {
    expect(compilePathPattern(pattern)(path)).toBe(expected)
  })
})

function route(id: string, methods: string[]): CompiledRoute {
  return { id, methods: new Set(methods) } as unknown as CompiledRoute
}

function raw(method: string, url: string, host = 'api.test:8443'): RawRequest {
  return {
    method,
    url,
    headers: { host },
    peerIp: '127.0.0.1',
    body: new PassThrough(),
    hasBody: false,
  }
}

describe('match', () => {
  const table: RouteTable = {
    maxPathBytes: 2048,
    allowPathParameters: false,
    metadata: new Map(),
    matchers: [
      {
        route: route('admin-host', ['GET']),
        host: 'admin.test',
        matchesPath: compilePathPattern('/**'),
      },
      {
        route: route('read', ['GET']),
        host: undefined,
        matchesPath: compilePathPattern('/orders/**'),
      },
      {
        route: route('write', ['POST']),
        host: undefined,
        matchesPath: compilePathPattern('/orders/**'),
      },
    ],
  }

  it('takes the first route whose host, path and method match, and keeps the query apart', () => {
    const matched = match(table, raw('POST', '/orders/%31?x=1'), 'id', '192.0.2.1')
    expect(matched.route.id).toBe('write')
    expect(matched.path).toBe('/orders/1')
    expect(matched.query).toBe('?x=1')
  })

  it('matches the host without its port, case-insensitively', () => {
    expect(match(table, raw('GET', '/x', 'ADMIN.test:443'), 'id', 'ip').route.id).toBe('admin-host')
  })

  it('answers 405 with the methods the path does take', () => {
    expect(() => match(table, raw('DELETE', '/orders/1'), 'id', 'ip')).toThrow(MethodNotAllowed)
    try {
      match(table, raw('DELETE', '/orders/1'), 'id', 'ip')
    } catch (error) {
      expect((error as MethodNotAllowed).headers).toEqual({ allow: 'GET, POST' })
    }
  })

  it('answers 404 when nothing matches', () => {
    expect(() => match(table, raw('GET', '/other'), 'id', 'ip')).toThrow(RouteNotFound)
  })
})
