import { describe, expect, it } from 'vitest'
import { BadRequestPath } from '../errors.js'
import { normalisePath } from './normalise-path.js'

function reason(path: string): string {
  try {
    normalisePath(path, 2048)
  } catch (error) {
    if (error instanceof BadRequestPath) return error.reason
    throw error
  }
  return 'accepted'
}

describe('normalisePath', () => {
  it('decodes unreserved escapes only and upper-cases the others', () => {
    expect(normalisePath('/orders/%61%62c', 2048)).toBe('/orders/abc')
    expect(normalisePath('/a%2db/%7e', 2048)).toBe('/a-b/~')
    expect(normalisePath('/name/caf%c3%a9', 2048)).toBe('/name/caf%C3%A9')
    expect(normalisePath('/orders/', 2048)).toBe('/orders/')
  })

  it.each([
    ['/public/..%2fadmin', 'path.encoded_separator'],
    ['/public/%2e%2e/admin', 'path.dot_segment'],
    ['/public/%2E/admin', 'path.dot_segment'],
    ['/public/../admin', 'path.dot_segment'],
    ['/public/./admin', 'path.dot_segment'],
    ['/public/..;/admin', 'path.parameter'],
    ['/admin;x/users', 'path.parameter'],
    ['/public/%252e%252e/admin', 'path.double_encoding'],
    ['/public/%252fadmin', 'path.double_encoding'],
    ['/public/..\\admin', 'path.backslash'],
    ['/public/%5cadmin', 'path.encoded_separator'],
    ['/public/%00', 'path.control_character'],
    ['/public/%0d%0aX-Injected:1', 'path.control_character'],
    ['/public/\u0000', 'path.control_character'],
    ['/public//admin', 'path.empty_segment'],
    ['/public/%zz', 'path.bad_escape'],
    ['/public/%2', 'path.bad_escape'],
    ['admin', 'path.not_absolute'],
    ['/caf\u00e9', 'path.control_character'],
  ])('refuses %s (%s)', (path, expected) => {
    expect(reason(path)).toBe(expected)
  })

  it('with path parameters allowed, still refuses `..;x` (`..` to servers that strip them)', () => {
    const allowing = (path: string) => () => normalisePath(path, 2048, { allowParameters: true })
    expect(allowing('/a;v=1/b')()).toBe('/a;v=1/b')
    for (const path of [
      '/public/..;/admin',
      '/public/..;jsessionid=x/admin',
      '/public/%2e%2e;/admin',
    ]) {
      expect(allowing(path)).toThrow(BadRequestPath)
    }
  })

  it('refuses an overlong path before looking at it', () => {
    expect(() => normalisePath(`/${'a'.repeat(2048)}`, 2048)).toThrow(BadRequestPath)
  })
})
