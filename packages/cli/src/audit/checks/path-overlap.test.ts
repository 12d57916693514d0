import { describe, expect, it } from 'vitest'
import { coversTemplate, overlappingPath, segmentsOf } from './path-overlap.js'

describe('overlappingPath (the gateway patterns: literal, *, final **)', () => {
  it.each([
    ['/api/orders/*', '/api/**', '/api/orders/x'],
    ['/api/**', '/api/orders/*', '/api/orders/x'],
    ['/api/orders', '/api/orders', '/api/orders'],
    ['/api/*/items', '/api/orders/*', '/api/orders/items'],
    ['/**', '/health', '/health'],
    ['/api/**', '/api', '/api'],
    ['/', '/**', '/'],
  ])('%s and %s overlap on %s', (a, b, path) => {
    expect(overlappingPath(a, b)).toBe(path)
  })

  it.each([
    ['/api/orders/*', '/api/orders'],
    ['/api/orders/*', '/api/orders/*/items'],
    ['/api/**', '/public/**'],
    ['/orders-admin', '/orders'],
    ['/', '/health'],
  ])('%s and %s are disjoint', (a, b) => {
    expect(overlappingPath(a, b)).toBeUndefined()
  })
})

describe('coversTemplate (an OpenAPI path template routed by a pattern)', () => {
  it.each([
    ['/v1/orders/*', '/v1/orders/{id}', true],
    ['/v1/orders/**', '/v1/orders/{id}/items', true],
    ['/v1/orders/**', '/v1/orders', true],
    ['/v1/orders/ord-1', '/v1/orders/{id}', false],
    ['/v1/orders/*', '/v1/orders', false],
    ['/v1/orders/*', '/v1/orders/{id}/items', false],
    ['/v1/*/items', '/v1/orders/items', true],
  ])('%s covers %s: %s', (pattern, template, covered) => {
    expect(coversTemplate(segmentsOf(pattern), segmentsOf(template))).toBe(covered)
  })
})
