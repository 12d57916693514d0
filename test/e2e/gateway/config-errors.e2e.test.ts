import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadGatewayConfig } from '@gatehouse/gateway'
import { describe, expect, it } from 'vitest'

const env = { TLS_KEY: 'pem' }

/** Loads a YAML file as the CLI would and returns the problems it names (empty when it loads). */
function problemsOf(yaml: string): readonly string[] {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'))
  const path = join(dir, 'gateway.yaml')
  writeFileSync(path, yaml)
  try {
    loadGatewayConfig(path, { env })
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.issues
    throw error
  }
}

const head = `
listen:
  tls: { cert: { pem: cert }, key: { env: TLS_KEY } }
upstreams:
  api: { url: "https://api.internal" }
routes:
`

describe('the gateway refuses to start on an unsafe configuration file, naming the key', () => {
  it.each([
    [
      'a route without an auth method',
      `  - { id: a, match: { path: /a, methods: [GET] }, upstream: api }`,
      'routes[0].auth: required: every route names exactly one auth method (jwt, phantom, split, cookie or public)',
    ],
    [
      'an auth method that is not spelled out',
      `  - { id: a, match: { path: /a, methods: [GET] }, upstream: api, auth: { method: anonymous } }`,
      'routes[0].auth.method: must be one of jwt, phantom, split, cookie or public (public must be written out)',
    ],
    [
      'a misspelt key',
      `  - { id: a, match: { path: /a, method: [GET] }, upstream: api, auth: { method: public } }`,
      'routes[0].match.method: unknown key',
    ],
    [
      'a token route naming an issuer that does not exist',
      `  - { id: a, match: { path: /a, methods: [GET] }, upstream: api, auth: { method: jwt, issuer: nobody, audience: x } }`,
      'routes[0].auth.issuer: unknown issuer "nobody"',
    ],
  ])('%s', (_name, route, message) => {
    expect(problemsOf(head + route)).toContain(message)
  })

  it('refuses a plain-http upstream', () => {
    const yaml =
      head.replace('https://api.internal', 'http://api.internal') +
      '  - { id: a, match: { path: /a, methods: [GET] }, upstream: api, auth: { method: public } }'
    expect(problemsOf(yaml)).toEqual([
      'upstreams.api.url: plain http upstream refused: use https, or set allowInsecureHttp: true knowingly',
    ])
  })

  it('refuses a secret from an unset environment variable', () => {
    const yaml = `${head.replace('env: TLS_KEY', 'env: MISSING_KEY')}  - { id: a, match: { path: /a, methods: [GET] }, upstream: api, auth: { method: public } }`
    expect(problemsOf(yaml)).toEqual([
      'listen.tls.key: environment variable MISSING_KEY is not set',
    ])
  })

  it('reports YAML syntax errors with their position', () => {
    const [problem] = problemsOf('routes: [\n')
    expect(problem).toMatch(/gateway\.yaml: .*line 2/s)
  })
})
