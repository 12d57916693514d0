import { describe, expect, it } from 'vitest'
import { parseYamlSource, YamlSyntaxError } from './yaml-source.js'

const TEXT = [
  'gateway:', // 1
  '  routes:', // 2
  '    - id: a', // 3
  '      auth: { method: public }', // 4
  '    - id: b', // 5
  '  trustedProxies: [10.0.0.0/8, 0.0.0.0/0]', // 6
  '',
].join('\n')

describe('parseYamlSource', () => {
  const source = parseYamlSource('gatehouse.yaml', TEXT)

  it('locates keys in block and flow collections at the key itself', () => {
    expect(source.locate(['gateway', 'routes'])).toEqual({ line: 2, column: 3 })
    expect(source.locate(['gateway', 'routes', 0, 'auth', 'method'])).toEqual({
      line: 4,
      column: 15,
    })
    expect(source.locate(['gateway', 'routes', 1])).toEqual({ line: 5, column: 7 })
    expect(source.locate(['gateway', 'trustedProxies', 1])).toEqual({ line: 6, column: 32 })
  })

  it('falls back to the closest written ancestor for a key left to its default', () => {
    expect(source.locate(['gateway', 'routes', 1, 'rateLimits'])).toEqual({ line: 5, column: 7 })
    expect(source.locate(['gateway', 'admin', 'host'])).toEqual({ line: 1, column: 1 })
  })

  it('refuses a duplicated key instead of letting the second value win', () => {
    expect(() => parseYamlSource('dup.yaml', 'a: 1\nb: 2\na: 3\n')).toThrow(YamlSyntaxError)
    try {
      parseYamlSource('dup.yaml', 'a: 1\nb: 2\na: 3\n')
    } catch (error) {
      expect((error as YamlSyntaxError).problems).toEqual(['dup.yaml:3:1: Map keys must be unique'])
    }
  })

  it('does not quote the offending source line in syntax errors (it may hold a secret)', () => {
    const text = 'clientSecret: "s3cr3t-value\n'
    expect(() => parseYamlSource('bad.yaml', text)).toThrow(YamlSyntaxError)
    try {
      parseYamlSource('bad.yaml', text)
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t')
    }
  })

  it('refuses exponential alias expansion (billion laughs) as a syntax error', () => {
    const letters = 'abcdefghijklm'
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (const [i, name] of [...letters.slice(1)].entries()) {
      const previous = `*${letters[i]}`
      lines.push(`${name}: &${name} [${Array(9).fill(previous).join(', ')}]`)
    }
    expect(() => parseYamlSource('bomb.yaml', lines.join('\n'))).toThrow(YamlSyntaxError)
  })
})
