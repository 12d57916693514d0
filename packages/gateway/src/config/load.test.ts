import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../errors.js'
import { loadGatewayConfig } from './load.js'

const env = { TLS_KEY: 'key-pem', INTROSPECTION_SECRET: 's3cret' }

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
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
        match: { path: '/orders/**', methods: ['GET'] },
        upstream: 'orders',
        auth: { method: 'jwt', issuer: 'main', audience: 'https://api.test/orders' },
        scopes: { GET: ['orders:read'] },
      },
    ],
    ...overrides,
  }
}

function issuesOf(config: unknown): readonly string[] {
  try {
    loadGatewayConfig(config as object, { env })
  } catch (error) {
    if (error instanceof ConfigError) return error.issues
    throw error
  }
  return []
}

function route(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'r',
    match: { path: '/r', methods: ['GET'] },
    upstream: 'orders',
    auth: { method: 'public' },
    ...extra,
  }
}

describe('loadGatewayConfig', () => {
  it('loads, applies defaults, resolves secrets and freezes the result', () => {
    const config = loadGatewayConfig(base(), { env })
    expect(config.settings.listen.limits.maxHeaderCount).toBe(100)
    expect(config.settings.upstreams.orders?.timeouts.responseMs).toBe(30_000)
    expect(config.secret(config.settings.listen.tls.key)).toBe('key-pem')
    expect(Object.isFrozen(config.settings.routes[0])).toBe(true)
  })

  it('reads YAML from a file and resolves { file } relative to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'))
    writeFileSync(join(dir, 'cert.pem'), 'cert-from-file')
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [
        'listen:',
        '  tls: { cert: { file: cert.pem }, key: { env: TLS_KEY } }',
        'upstreams:',
        '  echo: { url: "https://127.0.0.1:9000" }',
        'routes:',
        '  - id: health',
        '    match: { path: /health, methods: [GET] }',
        '    upstream: echo',
        '    auth: { method: public }',
      ].join('\n'),
    )
    const config = loadGatewayConfig(join(dir, 'gateway.yaml'), { env })
    expect(config.secret(config.settings.listen.tls.cert)).toBe('cert-from-file')
  })

  it('refuses duplicated YAML keys instead of letting the last one win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'))
    writeFileSync(join(dir, 'g.yaml'), 'upstreams: {}\nupstreams: {}\n')
    expect(() => loadGatewayConfig(join(dir, 'g.yaml'), { env })).toThrow(/Map keys must be unique/)
  })

  it('refuses a route without an auth method, naming the route', () => {
    const { auth: _auth, ...noAuth } = route({})
    expect(issuesOf(base({ routes: [noAuth] }))).toEqual([
      'routes[0].auth: required: every route names exactly one auth method (jwt, phantom, split, cookie or public)',
    ])
  })

  it('refuses an unknown auth method (public must be written out)', () => {
    expect(issuesOf(base({ routes: [route({ auth: { method: 'none' } })] }))[0]).toMatch(
      /^routes\[0\]\.auth\.method: must be one of jwt, phantom, split, cookie or public/,
    )
  })

  it('refuses unknown keys at any depth, naming the key path', () => {
    expect(
      issuesOf(base({ routes: [route({ match: { path: '/r', methods: ['GET'], prefix: '/' } })] })),
    ).toEqual(['routes[0].match.prefix: unknown key'])
    expect(issuesOf(base({ debug: true }))).toEqual(['debug: unknown key'])
  })

  it('refuses a plain-http upstream unless allowInsecureHttp is set', () => {
    expect(issuesOf(base({ upstreams: { orders: { url: 'http://orders.internal' } } }))).toEqual([
      'upstreams.orders.url: plain http upstream refused: use https, or set allowInsecureHttp: true knowingly',
    ])
    expect(
      issuesOf(
        base({ upstreams: { orders: { url: 'http://orders.internal', allowInsecureHttp: true } } }),
      ),
    ).toEqual([])
  })

  it('refuses scopes on a public route, unknown references and duplicate ids', () => {
    const issues = issuesOf(
      base({
        routes: [
          route({ scopes: { GET: ['x'] } }),
          route({ upstream: 'nope' }),
          route({ id: 'p', auth: { method: 'jwt', issuer: 'other', audience: 'a' } }),
        ],
      }),
    )
    expect(issues).toEqual([
      'routes[0].scopes: a public route cannot require scopes',
      'routes[1].id: duplicate route id "r"',
      'routes[1].upstream: unknown upstream "nope"',
      'routes[2].auth.issuer: unknown issuer "other"',
    ])
  })

  it('refuses a phantom route whose issuer has no introspection client', () => {
    const config = base({
      issuers: { main: { issuer: 'https://as.test', jwksUri: 'https://as.test/jwks' } },
      routes: [route({ auth: { method: 'phantom', issuer: 'main', audience: 'a' } })],
    })
    expect(issuesOf(config)).toEqual([
      "routes[0].auth.method: a phantom route needs issuers.main.introspection (the gateway's introspection client)",
    ])
  })

  it('refuses an http JWKS URI, bad paths and bad CIDRs', () => {
    const issues = issuesOf(
      base({
        issuers: { main: { issuer: 'https://as.test', jwksUri: 'http://as.test/jwks' } },
        routes: [route({ match: { path: '/a/**/b', methods: ['GET'] } })],
        trustedProxies: ['10.0.0.0/33'],
      }),
    )
    expect(issues).toContain('issuers.main.jwksUri: must be an https:// URL')
    expect(issues).toContain('routes[0].match.path: "**" may only end the path')
    expect(issues).toContain('trustedProxies[0]: must be an IP address or CIDR (e.g. 10.0.0.0/8)')
  })

  it('refuses a secret in an unset environment variable, naming where it is used', () => {
    expect(() => loadGatewayConfig(base(), { env: { TLS_KEY: 'k' } })).toThrow(
      'issuers.main.introspection.clientSecret: environment variable INTROSPECTION_SECRET is not set',
    )
  })

  it('refuses a secret written as a plain string', () => {
    const config = base()
    ;(config.listen as { tls: { key: unknown } }).tls.key = 'BEGIN PRIVATE KEY'
    expect(issuesOf(config)[0]).toMatch(/^listen\.tls\.key: /)
  })

  it('refuses a cookie route without the tokenHandler section, a short cookie key and an unknown current key', () => {
    const cookieRoute = route({ auth: { method: 'cookie', issuer: 'main', audience: 'a' } })
    expect(issuesOf(base({ routes: [cookieRoute] }))).toEqual([
      'routes[0].auth.method: a cookie route needs the tokenHandler section',
    ])
    const tokenHandler = {
      cookies: { namePrefix: 'gh', basePath: '', apiPath: '/api' },
      keys: [{ id: 'k1', key: { env: 'SHORT_KEY' } }],
      currentKeyId: 'k2',
      allowedOrigins: ['https://app.test'],
    }
    expect(issuesOf(base({ routes: [cookieRoute], tokenHandler }))).toEqual([
      'tokenHandler.currentKeyId: no key with id "k2" in tokenHandler.keys',
    ])
    expect(() =>
      loadGatewayConfig(
        base({ routes: [cookieRoute], tokenHandler: { ...tokenHandler, currentKeyId: 'k1' } }),
        {
          env: { ...env, SHORT_KEY: Buffer.alloc(16).toString('base64') },
        },
      ),
    ).toThrow('tokenHandler.keys[0].key: must be 32 bytes in base64 (got 16)')
  })

  it('refuses prototype-polluting keys, naming where they are', () => {
    const config = base()
    Object.defineProperty(config, '__proto__', { value: { admin: true }, enumerable: true })
    const routes = config.routes as Record<string, unknown>[]
    Object.defineProperty(routes[0], 'constructor', { value: {}, enumerable: true })
    expect([...issuesOf(config)].sort()).toEqual([
      '__proto__: key not allowed',
      'routes[0].constructor: key not allowed',
    ])
  })

  it('refuses an unresolved YAML alias and an alias bomb with a ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'))
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (const name of ['b', 'c', 'd', 'e']) {
      bomb.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${String.fromCharCode(name.charCodeAt(0) - 1)}`)
          .join(', ')}]`,
      )
    }
    for (const [index, text] of ['listen: *x', bomb.join('\n')].entries()) {
      writeFileSync(join(dir, `${index}.yaml`), text)
      expect(() => loadGatewayConfig(join(dir, `${index}.yaml`), { env })).toThrow(ConfigError)
    }
  })
})
