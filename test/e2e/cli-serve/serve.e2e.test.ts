/**
 * `gatehouse serve`, `gatehouse migrate` and `gatehouse keys` as operators run them: the real CLI
 * processes on one root configuration file (SQLite store, memory state), secrets in the
 * environment, HTTPS on free ports with certificates from a test CA.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQLITE_MIGRATIONS } from '@gatehouse/authorization-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, freePort } from '../distributed/support/services.js'
import {
  type EchoedRequest,
  type EchoUpstream,
  startEchoUpstream,
} from '../gateway/support/echo-upstream.js'
import { request } from '../gateway/support/https-client.js'
import { createTestPki, type TestPki } from '../gateway/support/pki.js'
import { type CliProcess, requireBuiltCli, runCli, startCli } from './support/cli-process.js'

const AUDIENCE = 'https://api.gatehouse.test/echo'
const LISTENING =
  /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"(?:authorization server|gateway) listening"/

let dir: string
let pki: TestPki
let upstream: EchoUpstream
let configFile: string
let issuer: string
let asPort: number
const env = {
  GH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  GH_PARTNER_SECRET: `partner-${randomBytes(16).toString('hex')}`,
  GH_GATEWAY_SECRET: `gateway-${randomBytes(16).toString('hex')}`,
  GH_BFF_SECRET: `bff-${randomBytes(16).toString('hex')}`,
  GH_COOKIE_KEY: randomBytes(32).toString('base64'),
}
const SPA_ORIGIN = 'https://spa.gatehouse.test'

function rootConfig(extraRoutes = ''): string {
  return `authorizationServer:
  issuer: ${issuer}
  keys: { encryptionKey: { env: GH_KEY_ENCRYPTION_KEY } }
  scopes:
    echo: {}
store: { driver: sqlite, path: ${join(dir, 'gatehouse.db')} }
clients:
  - clientId: partner
    name: Partner
    clientSecret: { env: GH_PARTNER_SECRET }
    scopes: [echo]
    audiences: [${AUDIENCE}]
  - clientId: gateway
    name: Gateway
    clientSecret: { env: GH_GATEWAY_SECRET }
  - clientId: spa-bff
    name: SPA backend for frontend
    clientSecret: { env: GH_BFF_SECRET }
    grantTypes: [authorization_code, refresh_token]
    redirectUris: [${SPA_ORIGIN}/callback]
    scopes: [openid, echo]
    audiences: [${AUDIENCE}]
tokenHandler:
  authorizationServer: { issuer: ${issuer} }
  client: { id: spa-bff, authentication: { method: client_secret_basic, secret: { env: GH_BFF_SECRET } } }
  redirectUri: ${SPA_ORIGIN}/callback
  scope: openid echo
  authorizationParameters: { resource: ${AUDIENCE} }
  allowedOrigins: [${SPA_ORIGIN}]
  cookies: { keys: [{ id: k1, key: { env: GH_COOKIE_KEY } }], currentKeyId: k1 }
gateway:
  listen:
    port: 0
    tls: { cert: { file: server.pem }, key: { file: server-key.pem } }
  issuers:
    main:
      issuer: ${issuer}
      jwksUri: ${issuer}/jwks
      ca: { file: ca.pem }
      introspection:
        endpoint: ${issuer}/introspect
        clientId: gateway
        clientSecret: { env: GH_GATEWAY_SECRET }
  upstreams:
    echo: { url: ${upstream.url}, ca: { file: ca.pem } }
  routes:
    - id: phantom
      match: { path: /phantom/**, methods: [GET] }
      upstream: echo
      auth: { method: phantom, issuer: main, audience: ${AUDIENCE} }
      scopes: { GET: [echo] }
${extraRoutes}`
}

const PUBLIC_ROUTE = `    - id: public
      match: { path: /public/**, methods: [GET] }
      upstream: echo
      auth: { method: public }
`

async function clientCredentials(): Promise<string> {
  const response = await request(`${issuer}/token`, pki.ca.cert, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`partner:${env.GH_PARTNER_SECRET}`).toString('base64')}`,
    },
    body: `grant_type=client_credentials&scope=echo&resource=${encodeURIComponent(AUDIENCE)}`,
  })
  expect(response.status).toBe(200)
  return response.json<{ access_token: string }>().access_token
}

const tlsArgs = () => [
  '--tls-cert',
  join(dir, 'server.pem'),
  '--tls-key',
  join(dir, 'server-key.pem'),
]

beforeAll(async () => {
  requireBuiltCli()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-serve-'))
  pki = await createTestPki()
  await writeFile(join(dir, 'ca.pem'), pki.ca.cert)
  await writeFile(join(dir, 'server.pem'), pki.server.cert)
  await writeFile(join(dir, 'server-key.pem'), pki.server.key, { mode: 0o600 })
  upstream = await startEchoUpstream(pki)
  asPort = await freePort()
  issuer = `https://localhost:${asPort}`
  configFile = join(dir, 'gatehouse.yaml')
  await writeFile(configFile, rootConfig())
})
afterAll(async () => {
  await upstream?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('gatehouse migrate and keys on SQLite', () => {
  it('applies the migrations of a new store once, then finds it up to date', async () => {
    const first = await runCli(['migrate', '--config', configFile], { env })
    expect(first.code).toBe(0)
    const versions = SQLITE_MIGRATIONS.map((migration) => `  ${migration.version}\n`).join('')
    expect(first.output).toMatch(
      new RegExp(
        `^SQLite .*gatehouse\\.db: applied ${SQLITE_MIGRATIONS.length} migration\\(s\\)\n${versions}$`,
      ),
    )
    const again = await runCli(['migrate', '--config', configFile], { env })
    expect(again).toEqual({
      code: 0,
      output: expect.stringMatching(/up to date, no migration applied/),
    })
  })

  it('exits 2 naming the key path when the configuration is wrong', async () => {
    const broken = join(dir, 'broken.yaml')
    await writeFile(
      broken,
      'store: { driver: postgres, url: { env: GH_NO_SUCH_URL } }\ngateway: {}\n',
    )
    const result = await runCli(['migrate', '--config', broken], { env })
    expect(result.code).toBe(2)
    expect(result.output).toMatch(/gateway\.listen: /)
  })
})

describe('gatehouse serve', () => {
  it.each([['-1'], ['4096'], ['lots']])(
    'exits 2 naming --log-buffer when it is %s (a whole number of bytes from 0 to 4095)',
    async (value) => {
      const result = await runCli(
        ['serve', 'gateway', '--config', configFile, `--log-buffer=${value}`],
        { env },
      )
      expect(result.code).toBe(2)
      expect(result.output).toMatch(/--log-buffer: must be a whole number from 0 to 4095/)
    },
  )

  let as: CliProcess
  let gateway: CliProcess
  let gatewayUrl: string
  beforeAll(async () => {
    as = startCli(
      [
        'serve',
        'authorization-server',
        '--config',
        configFile,
        '--port',
        String(asPort),
        ...tlsArgs(),
      ],
      { env },
    )
    await as.waitFor(LISTENING)
    gateway = startCli(['serve', 'gateway', '--config', configFile, '--workers', '1'], {
      env,
      cwd: dir,
    })
    gatewayUrl = (await gateway.waitFor(LISTENING))[1] ?? ''
  }, 60_000)
  afterAll(async () => {
    await gateway?.stop()
    await as?.stop()
  })

  it('issues a token to a declared client and the gateway swaps it for a JWT (phantom token)', async () => {
    const token = await clientCredentials()
    const answered = await request(`${gatewayUrl}/phantom/orders`, pki.ca.cert, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(answered.status).toBe(200)
    const forwarded = answered.json<EchoedRequest>().headers.authorization ?? ''
    expect(forwarded).toMatch(/^Bearer ey[\w-]+\.[\w-]+\.[\w-]+$/)
    const refused = await request(`${gatewayUrl}/phantom/orders`, pki.ca.cert)
    expect(refused.status).toBe(401)
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/)
    // The access log names the request, never the token.
    expect(as.output()).not.toContain(token)
    expect(gateway.output()).not.toContain(token)
  })

  it('refuses a wrong client secret at the token endpoint', async () => {
    const response = await request(`${issuer}/token`, pki.ca.cert, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('partner:not-the-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=echo',
    })
    expect(response.status).toBe(401)
    expect(response.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('lists the signing keys the server made, from the store', async () => {
    const listed = await runCli(['keys', 'list', '--config', configFile, '--json'], { env })
    expect(listed.code).toBe(0)
    const keys = JSON.parse(listed.output) as {
      state: string
      publicJwk: Record<string, unknown>
    }[]
    expect(keys.map((key) => key.state).sort()).toEqual(['active', 'next'])
    for (const key of keys) expect(key.publicJwk).not.toHaveProperty('d')
    // The next key is not yet published long enough: rotating now is refused without --force.
    const early = await runCli(['keys', 'rotate', '--config', configFile], { env })
    expect(early.code).toBe(1)
    expect(early.output).toMatch(/not been published long enough/)
  })

  it('reloads the gateway configuration on SIGHUP, and keeps it when the new one is invalid', async () => {
    expect((await request(`${gatewayUrl}/public/x`, pki.ca.cert)).status).toBe(404)
    await writeFile(configFile, rootConfig('    - id: broken\n      upstream: nowhere\n'))
    gateway.child.kill('SIGHUP')
    await gateway.waitFor(/reload refused/)
    expect((await request(`${gatewayUrl}/public/x`, pki.ca.cert)).status).toBe(404)
    await writeFile(configFile, rootConfig(PUBLIC_ROUTE))
    gateway.child.kill('SIGHUP')
    await eventually(
      async () => (await request(`${gatewayUrl}/public/x`, pki.ca.cert)).status === 200,
      5_000,
    )
  })

  it('exits 2 naming the key path when a secret is missing from the environment', async () => {
    const gatewayWithout = await runCli(
      ['serve', 'gateway', '--config', configFile, '--workers', '1'],
      {
        env: { ...env, GH_GATEWAY_SECRET: '' },
      },
    )
    expect(gatewayWithout.code).toBe(2)
    expect(gatewayWithout.output).toContain('gateway.issuers.main.introspection.clientSecret')
    const serverWithout = await runCli(
      ['serve', 'authorization-server', '--config', configFile, '--port', '0', ...tlsArgs()],
      { env: { ...env, GH_KEY_ENCRYPTION_KEY: '' } },
    )
    expect(serverWithout.code).toBe(2)
    expect(serverWithout.output).toContain(
      'authorizationServer.keys.encryptionKey: environment variable GH_KEY_ENCRYPTION_KEY is not set',
    )
    expect(serverWithout.output).not.toContain(env.GH_PARTNER_SECRET)
  })

  it('serves the token handler, which starts a login at the authorization server it trusts through --ca', async () => {
    const tokenHandler = startCli(
      [
        'serve',
        'token-handler',
        '--config',
        configFile,
        '--port',
        '0',
        '--ca',
        join(dir, 'ca.pem'),
        ...tlsArgs(),
      ],
      { env },
    )
    try {
      const url = (
        await tokenHandler.waitFor(/"url":"(https:\/\/[^"]+)"[^\n]*"msg":"token handler listening"/)
      )[1]
      const started = await request(`${url}/login/start`, pki.ca.cert, {
        method: 'POST',
        headers: { origin: SPA_ORIGIN },
      })
      expect(started.status, `${started.text} ${tokenHandler.output()}`).toBe(200)
      const authorizationUrl = new URL(
        started.json<{ authorizationUrl: string }>().authorizationUrl,
      )
      expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${issuer}/authorize`)
      expect(authorizationUrl.searchParams.get('client_id')).toBe('spa-bff')
      // Another origin gets nothing.
      const foreign = await request(`${url}/login/start`, pki.ca.cert, {
        method: 'POST',
        headers: { origin: 'https://evil.example' },
      })
      expect(foreign.status).toBe(403)
    } finally {
      expect(await tokenHandler.stop()).toBe(0)
    }
  })

  it('runs gateway workers (memory state owned by the primary) and stops them all on Ctrl-C', async () => {
    const port = await freePort()
    const cluster = startCli(
      ['serve', 'gateway', '--config', configFile, '--workers', '2', '--port', String(port)],
      { env, cwd: dir, detached: true },
    )
    try {
      await cluster.waitFor(/gateway cluster listening/, 60_000)
      const token = await clientCredentials()
      for (let i = 0; i < 4; i++) {
        const answered = await request(`https://localhost:${port}/phantom/x`, pki.ca.cert, {
          headers: { authorization: `Bearer ${token}` },
        })
        expect(answered.status).toBe(200)
      }
    } finally {
      // Ctrl-C: the workers leave stopping to the primary, which starts no replacement.
      expect(await cluster.stopGroup('SIGINT')).toBe(0)
      expect(cluster.output()).not.toContain('starting another')
    }
  }, 90_000)
})
