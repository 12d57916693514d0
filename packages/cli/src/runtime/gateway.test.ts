import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCertificateAuthority } from '@gatehouse/dev-ca'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatehouseConfigError } from '../config/load.js'
import { RuntimeConfigError } from './errors.js'
import { gatewayConfigLoader } from './gateway.js'

let dir: string
let file: string
const GATEWAY = (upstream: string) => `gateway:
  listen:
    port: 9000
    tls: { cert: { file: cert.pem }, key: { env: GW_TLS_KEY } }
  issuers:
    main: { issuer: https://id.example.test, jwksUri: https://id.example.test/jwks }
  upstreams:
    api: { url: https://api.internal:8443 }
  routes:
    - id: api
      match: { path: /api/**, methods: [GET] }
      upstream: ${upstream}
      auth: { method: jwt, issuer: main, audience: https://api.example.test }
`
let key: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-gateway-runtime-'))
  const ca = await createCertificateAuthority()
  const server = await ca.issue({ commonName: 'localhost', usage: 'server' })
  key = server.key
  await writeFile(join(dir, 'cert.pem'), server.cert)
  await writeFile(join(dir, 'other.pem'), server.cert)
  await writeFile(join(dir, 'other-key.pem'), server.key)
  file = join(dir, 'gatehouse.yaml')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the gateway section of the root configuration', () => {
  it('loads with secrets from the environment and files beside the configuration', async () => {
    await writeFile(file, GATEWAY('api'))
    const config = gatewayConfigLoader(file, { env: { GW_TLS_KEY: key }, baseDir: dir }, {})()
    expect(config.settings.listen).toMatchObject({ host: '127.0.0.1', port: 9000 })
    expect(config.secret(config.settings.listen.tls.key).trim()).toBe(key.trim())
  })

  it('lets --host, --port, --tls-cert and --tls-key override listen', async () => {
    await writeFile(file, GATEWAY('api'))
    const config = gatewayConfigLoader(
      file,
      { env: {}, baseDir: dir },
      {
        host: '0.0.0.0',
        port: 0,
        tlsCert: join(dir, 'other.pem'),
        tlsKey: join(dir, 'other-key.pem'),
      },
    )()
    expect(config.settings.listen).toMatchObject({ host: '0.0.0.0', port: 0 })
    expect(config.secret(config.settings.listen.tls.key).trim()).toBe(key.trim())
  })

  it('names the root key path of each problem, and reads the file afresh each time', async () => {
    await writeFile(file, GATEWAY('nowhere'))
    const load = gatewayConfigLoader(file, { env: {}, baseDir: dir }, {})
    let problems: readonly { keyPath: string }[] = []
    try {
      load()
    } catch (error) {
      // The root schema or the gateway's own loader: either names root key paths.
      if (!(error instanceof RuntimeConfigError || error instanceof GatehouseConfigError))
        throw error
      problems = error.problems
    }
    expect(problems.map((problem) => problem.keyPath)).toEqual(['gateway.routes[0].upstream'])
    await writeFile(file, GATEWAY('api'))
    expect(() => load()).toThrow(/gateway.listen.tls.key: .*GW_TLS_KEY/)
  })

  it('refuses a configuration without a gateway section', async () => {
    await writeFile(file, 'tokenHandler:\n  nonsense: true\n')
    expect(() => gatewayConfigLoader(file, { env: {}, baseDir: dir }, {})()).toThrow(/tokenHandler/)
    await writeFile(
      file,
      'authorizationServer: { issuer: https://id.example.test, keys: { encryptionKey: { env: K } } }\nstore: { driver: sqlite, path: x.db }\n',
    )
    expect(() => gatewayConfigLoader(file, { env: {}, baseDir: dir }, {})()).toThrow(
      'gateway: is missing from the configuration',
    )
  })
})
