/**
 * The CLI on PostgreSQL and Redis: `gatehouse migrate` on a schema of its own, `gatehouse serve`
 * with `store: postgres` and `state: redis` (a revocation at the authorization server reaches the
 * gateway workers through Redis), and `gatehouse start --distributed` answering through its fronts.
 * Needs GATEHOUSE_TEST_POSTGRES_URL and GATEHOUSE_TEST_REDIS_URL (fails under CI without them).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  distributedServicesAvailable,
  eventually,
  freePort,
  postgresUrl,
  redisUrl,
} from '../distributed/support/services.js'
import {
  type EchoedRequest,
  type EchoUpstream,
  startEchoUpstream,
} from '../gateway/support/echo-upstream.js'
import { request } from '../gateway/support/https-client.js'
import { createTestPki, type TestPki } from '../gateway/support/pki.js'
import { type CliProcess, requireBuiltCli, runCli, startCli } from './support/cli-process.js'

const available = await distributedServicesAvailable('the CLI distributed e2e tests')
const AUDIENCE = 'https://api.gatehouse.test/echo'
const LISTENING = /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"authorization server listening"/
const run = randomBytes(5).toString('hex')
const schemas = [`gh_cli_serve_${run}`, `gh_cli_dist_${run}`]
const prefixes = [`gh-cli-serve-${run}:`, `gh-cli-dist-${run}:`]

function withParameter(url: string, name: string, value: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set(name, value)
  return parsed.toString()
}

async function cleanUp(): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  for (const schema of schemas) {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)
  }
  await client.end()
  const redis = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null })
  redis.on('error', () => undefined)
  await redis.connect()
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
  }
  redis.disconnect()
}

describe.skipIf(!available)('the CLI on PostgreSQL and Redis', () => {
  let dir: string
  let pki: TestPki
  let upstream: EchoUpstream
  beforeAll(async () => {
    requireBuiltCli()
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-distributed-'))
    pki = await createTestPki()
    await writeFile(join(dir, 'ca.pem'), pki.ca.cert)
    await writeFile(join(dir, 'server.pem'), pki.server.cert)
    await writeFile(join(dir, 'server-key.pem'), pki.server.key, { mode: 0o600 })
    upstream = await startEchoUpstream(pki)
  })
  afterAll(async () => {
    await upstream?.close()
    await rm(dir, { recursive: true, force: true })
    await cleanUp()
  })

  describe('gatehouse migrate and serve with store: postgres, state: redis', () => {
    const env = {
      GH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      GH_PARTNER_SECRET: `partner-${randomBytes(16).toString('hex')}`,
      GH_GATEWAY_SECRET: `gateway-${randomBytes(16).toString('hex')}`,
      GH_DATABASE_URL: withParameter(postgresUrl, 'schema', schemas[0] ?? ''),
      GH_REDIS_URL: withParameter(redisUrl, 'prefix', prefixes[0] ?? ''),
    }
    let configFile: string
    let issuer: string
    let as: CliProcess
    let gateway: CliProcess
    let gatewayPort: number
    beforeAll(async () => {
      const asPort = await freePort()
      gatewayPort = await freePort()
      issuer = `https://localhost:${asPort}`
      configFile = join(dir, 'gatehouse.yaml')
      await writeFile(
        configFile,
        `authorizationServer:
  issuer: ${issuer}
  keys: { encryptionKey: { env: GH_KEY_ENCRYPTION_KEY } }
  scopes: { echo: {} }
store: { driver: postgres, url: { env: GH_DATABASE_URL } }
state: { driver: redis, url: { env: GH_REDIS_URL } }
clients:
  - { clientId: partner, name: Partner, clientSecret: { env: GH_PARTNER_SECRET }, scopes: [echo], audiences: ['${AUDIENCE}'] }
  - { clientId: gateway, name: Gateway, clientSecret: { env: GH_GATEWAY_SECRET } }
  - { clientId: splitter, name: Splitter, tokenFormat: split, clientSecret: { env: GH_PARTNER_SECRET }, scopes: [echo], audiences: ['${AUDIENCE}'] }
gateway:
  listen:
    port: ${gatewayPort}
    tls: { cert: { file: server.pem }, key: { file: server-key.pem } }
  issuers:
    main:
      issuer: ${issuer}
      jwksUri: ${issuer}/jwks
      ca: { file: ca.pem }
      introspection: { endpoint: '${issuer}/introspect', clientId: gateway, clientSecret: { env: GH_GATEWAY_SECRET } }
  upstreams:
    echo: { url: '${upstream.url}', ca: { file: ca.pem } }
  routes:
    - id: phantom
      match: { path: /phantom/**, methods: [GET] }
      upstream: echo
      auth: { method: phantom, issuer: main, audience: '${AUDIENCE}' }
      scopes: { GET: [echo] }
    - id: split
      match: { path: /split/**, methods: [GET] }
      upstream: echo
      auth: { method: split, issuer: main, audience: '${AUDIENCE}' }
      scopes: { GET: [echo] }
`,
      )
    })
    afterAll(async () => {
      await gateway?.stop()
      await as?.stop()
    })

    it('migrates a schema of its own once, naming what it applied and never the password', async () => {
      const first = await runCli(['migrate', '--config', configFile], { env })
      expect(first.code).toBe(0)
      expect(first.output).toContain(`(schema ${schemas[0]}): applied`)
      expect(first.output).toMatch(/\n {2}1 \S+/)
      const again = await runCli(['migrate', '--config', configFile], { env })
      expect(again.code).toBe(0)
      expect(again.output).toContain('up to date, no migration applied')
    })

    it('stops a token revoked at the authorization server at every gateway worker within one second', async () => {
      as = startCli(
        [
          'serve',
          'authorization-server',
          '--config',
          configFile,
          '--port',
          new URL(issuer).port,
          '--tls-cert',
          join(dir, 'server.pem'),
          '--tls-key',
          join(dir, 'server-key.pem'),
        ],
        { env },
      )
      await as.waitFor(LISTENING)
      expect(as.output()).toContain(`"state":"Redis`)
      gateway = startCli(['serve', 'gateway', '--config', configFile, '--workers', '2'], {
        env,
        cwd: dir,
      })
      await gateway.waitFor(/gateway workers listening \(state in Redis\)/, 60_000)
      const basic = `Basic ${Buffer.from(`partner:${env.GH_PARTNER_SECRET}`).toString('base64')}`
      const issued = await request(`${issuer}/token`, pki.ca.cert, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: `grant_type=client_credentials&scope=echo&resource=${encodeURIComponent(AUDIENCE)}`,
      })
      expect(issued.status).toBe(200)
      const token = issued.json<{ access_token: string }>().access_token
      const call = () =>
        request(`https://localhost:${gatewayPort}/phantom/x`, pki.ca.cert, {
          headers: { authorization: `Bearer ${token}` },
        })
      // Fresh connections spread over both workers: each caches the phantom token.
      for (let i = 0; i < 4; i++) expect((await call()).status).toBe(200)
      const revoked = await request(`${issuer}/revoke`, pki.ca.cert, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: `token=${encodeURIComponent(token)}`,
      })
      expect(revoked.status).toBe(200)
      await eventually(async () => {
        const statuses = await Promise.all([call(), call(), call(), call()])
        return statuses.every((response) => response.status === 401)
      }, 1_000)
    }, 90_000)

    it('serves a split token: the authorization server wrote its header and payload to Redis', async () => {
      const issued = await request(`${issuer}/token`, pki.ca.cert, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`splitter:${env.GH_PARTNER_SECRET}`).toString('base64')}`,
        },
        body: `grant_type=client_credentials&scope=echo&resource=${encodeURIComponent(AUDIENCE)}`,
      })
      expect(issued.status).toBe(200)
      const signature = issued.json<{ access_token: string }>().access_token
      expect(signature).not.toContain('.')
      const call = (token: string) =>
        request(`https://localhost:${gatewayPort}/split/x`, pki.ca.cert, {
          headers: { authorization: `Bearer ${token}` },
        })
      for (let i = 0; i < 2; i++) {
        const answered = await call(signature)
        expect(answered.status).toBe(200)
        expect(answered.json<EchoedRequest>().headers.authorization).toMatch(
          new RegExp(`^Bearer ey[\\w-]+\\.[\\w-]+\\.${signature}$`),
        )
      }
      // A forged signature finds no entry.
      expect((await call(`${signature.slice(0, -4)}AAAA`)).status).toBe(401)
    })
  })

  describe('gatehouse start --distributed', () => {
    let stack: CliProcess
    afterAll(async () => {
      await stack?.stop('SIGINT')
    })

    it('answers a token request through the authorization servers front and a phantom call through the gateways front', async () => {
      const stackDir = join(dir, 'dev')
      stack = startCli(['start', '--distributed', '--ports', 'free', '--dir', stackDir], {
        cwd: dir,
        env: {
          GATEHOUSE_POSTGRES_URL: withParameter(postgresUrl, 'schema', schemas[1] ?? ''),
          GATEHOUSE_REDIS_URL: withParameter(redisUrl, 'prefix', prefixes[1] ?? ''),
        },
      })
      await stack.waitFor(/Press Ctrl-C to stop/, 90_000)
      const output = stack.output()
      const asFront = output.match(
        /authorization servers {2}(https:\/\/\S+) {2}\(round-robin front\)/,
      )?.[1]
      const gatewayFront = output.match(
        /gateways {15}(https:\/\/\S+) {2}\(round-robin front\)/,
      )?.[1]
      const secret = output.match(/distributed-partner {2}secret (\S+)/)?.[1]
      expect(asFront).toBeDefined()
      expect(gatewayFront).toBeDefined()
      const ca = await readFile(join(stackDir, 'tls', 'ca.pem'), 'utf8')
      const basic = `Basic ${Buffer.from(`distributed-partner:${secret}`).toString('base64')}`
      // Four tokens and four calls on fresh connections: the fronts alternate between instances.
      for (let i = 0; i < 4; i++) {
        const issued = await request(`${asFront}/token`, ca, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
          body: 'grant_type=client_credentials&scope=echo&resource=urn%3Agatehouse%3Aapi%3Aecho',
        })
        expect(issued.status).toBe(200)
        const token = issued.json<{ access_token: string }>().access_token
        // Two authorised calls then one without a token: three per round, so both gateways
        // get authorised calls whatever the front's turn.
        for (let call = 0; call < 2; call++) {
          const answered = await request(`${gatewayFront}/echo/hello`, ca, {
            headers: { authorization: `Bearer ${token}` },
          })
          expect(answered.status).toBe(200)
        }
        expect((await request(`${gatewayFront}/echo/hello`, ca)).status).toBe(401)
      }
      const log = stack.output()
      for (const instance of ['authorization-server-1', 'authorization-server-2']) {
        expect(log).toMatch(new RegExp(`\\[${instance}\\][^\\n]*"path":"/token","status":200`))
      }
      for (const instance of ['gateway-1', 'gateway-2']) {
        expect(log).toMatch(new RegExp(`\\[${instance}\\][^\\n]*"path":"/echo/hello","status":200`))
      }
    }, 120_000)
  })
})
