import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { ConfigError } from '../errors.js'
import { loadGatewayConfig } from './load.js'

/** Far above any honest load of these small documents; a runaway parse would blow through it. */
const GENEROUS_MS = 2000
const env = { TLS_KEY: 'key-pem', INTROSPECTION_SECRET: 's3cret' }
const folder = mkdtempSync(join(tmpdir(), 'gatehouse-config-fuzz-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/** A valid configuration touching every section, the starting point of every mutation. */
const VALID = {
  listen: { port: 0, tls: { cert: { pem: 'cert-pem' }, key: { env: 'TLS_KEY' } } },
  issuers: {
    main: {
      issuer: 'https://as.test',
      jwksUri: 'https://as.test/jwks',
      introspection: {
        endpoint: 'https://as.test/introspect',
        clientId: 'gateway',
        clientSecret: { env: 'INTROSPECTION_SECRET' },
      },
    },
  },
  upstreams: { orders: { url: 'https://orders.internal:8443' } },
  routes: [
    {
      id: 'orders',
      match: { path: '/orders/**', methods: ['GET', 'POST'] },
      upstream: 'orders',
      auth: { method: 'jwt', issuer: 'main', audience: 'https://api.test/orders' },
      scopes: { GET: ['orders:read'], POST: ['orders:write'] },
    },
    {
      id: 'opaque',
      match: { path: '/opaque/*', methods: ['GET'] },
      upstream: 'orders',
      auth: { method: 'phantom', issuer: 'main', audience: 'https://api.test/orders' },
    },
    {
      id: 'health',
      match: { path: '/health', methods: ['GET'] },
      upstream: 'orders',
      auth: { method: 'public' },
    },
  ],
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Every path (list of keys) into a JSON value. */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix]
  if (Array.isArray(value))
    return [...here, ...value.flatMap((item, i) => pathsOf(item, [...prefix, i]))]
  if (value !== null && typeof value === 'object') {
    return [
      ...here,
      ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key])),
    ]
  }
  return here
}
const PATHS = pathsOf(VALID as Json)

const HOSTILE_VALUE: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    '',
    '/**/**',
    '/a/../b',
    'http://plain.test',
    'https://',
    '10.0.0.0/99',
    '::/129',
    '$HOME',
    '__proto__',
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER,
    0.5,
    [],
    {},
    { env: '' },
    { file: '/dev/null' },
    { file: '../../../../etc/passwd' },
    { pem: '' },
  ),
)

const MUTATION = fc.record({
  path: fc.constantFrom(...PATHS),
  kind: fc.constantFrom('replace', 'delete', 'add-key', 'proto'),
  value: HOSTILE_VALUE,
  key: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'toString'),
  ),
})

type Mutation = typeof MUTATION extends fc.Arbitrary<infer T> ? T : never

function mutate(config: Json, mutations: readonly Mutation[]): Json {
  const copy = structuredClone(config)
  for (const { path, kind, value, key } of mutations) {
    if (path.length === 0) continue
    let parent: Json = copy
    for (const step of path.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object') break
      parent = (parent as Record<string | number, Json>)[step] ?? null
    }
    if (parent === null || typeof parent !== 'object') continue
    const last = path[path.length - 1] as string | number
    const target = parent as Record<string | number, Json>
    if (kind === 'replace') target[last] = value
    else if (kind === 'delete') delete target[last]
    else if (kind === 'add-key' && !Array.isArray(parent)) target[key] = value
    else if (kind === 'proto')
      Object.defineProperty(target, '__proto__', {
        value,
        enumerable: true,
        configurable: true,
        writable: true,
      })
  }
  return copy
}

/** Loads and expects a configuration or a ConfigError, within the time bound. */
function loadOrRefuse(source: string | object): 'loaded' | 'refused' {
  const started = performance.now()
  try {
    loadGatewayConfig(source, { env, baseDir: folder })
    return 'loaded'
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    for (const issue of (error as ConfigError).issues) expect(typeof issue).toBe('string')
    return 'refused'
  } finally {
    expect(performance.now() - started).toBeLessThan(GENEROUS_MS)
  }
}

let files = 0
function writeYaml(text: string): string {
  const path = join(folder, `config-${files++}.yaml`)
  writeFileSync(path, text)
  return path
}

describe('loadGatewayConfig (properties)', () => {
  it('loads the unmutated configuration (the fuzzing starts from a valid document)', () => {
    expect(loadOrRefuse(VALID)).toBe('loaded')
  })

  it('answers any mutation of a valid configuration object with a config or a ConfigError', () => {
    fc.assert(
      fc.property(fc.array(MUTATION, { minLength: 1, maxLength: 4 }), (mutations) => {
        loadOrRefuse(mutate(VALID as Json, mutations) as object)
      }),
      { numRuns: 200 },
    )
  })

  it('answers any JSON value as a whole configuration with a ConfigError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        if (typeof value !== 'object' || value === null) return
        expect(loadOrRefuse(value)).toBe('refused')
      }),
      { numRuns: 300 },
    )
  })

  it('answers random edits of the YAML file with a config or a ConfigError, never a crash', () => {
    const text = stringify(VALID)
    const EDIT = fc.record({
      at: fc.nat({ max: text.length }),
      remove: fc.nat({ max: 20 }),
      insert: fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom(
          '\n',
          ': ',
          '- ',
          '&a ',
          '*a',
          '!!js/function ',
          '{',
          '[',
          '"',
          "'",
          '\t',
          '\u0000',
          '%YAML 1.1\n',
          '<<: *a\n',
          '---\n',
        ),
      ),
    })
    fc.assert(
      fc.property(fc.array(EDIT, { minLength: 1, maxLength: 5 }), (edits) => {
        let edited = text
        for (const { at, remove, insert } of edits) {
          const position = Math.min(at, edited.length)
          edited = edited.slice(0, position) + insert + edited.slice(position + remove)
        }
        loadOrRefuse(writeYaml(edited))
      }),
      { numRuns: 100 },
    )
  })

  it('answers arbitrary text as a YAML file with a ConfigError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        expect(loadOrRefuse(writeYaml(text))).toBe('refused')
      }),
      { numRuns: 200 },
    )
  })

  it('refuses an unresolved YAML alias and an alias bomb (billion laughs) with a ConfigError', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (const name of ['b', 'c', 'd', 'e']) {
      const previous = bomb.length === 1 ? 'a' : String.fromCharCode(name.charCodeAt(0) - 1)
      bomb.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`)
    }
    for (const text of ['*!', 'listen: *x', bomb.join('\n')]) {
      expect(loadOrRefuse(writeYaml(text))).toBe('refused')
    }
  })
})
