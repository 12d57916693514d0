import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type EchoUpstream, startEchoUpstream } from './support/echo-upstream.js'
import { request } from './support/https-client.js'
import { createTestPki, type TestPki } from './support/pki.js'
import { INTROSPECTION_CLIENT, startTokenIssuer, type TokenIssuer } from './support/token-issuer.js'

const AUDIENCE = 'https://api.test/orders'

const root = join(import.meta.dirname, '../../..')
let pki: TestPki
let upstream: EchoUpstream
let issuer: TokenIssuer
let child: ChildProcess
let output = ''
let gatewayUrl = ''
let adminUrl = ''

/** The gateway cluster runs from the built package, as `gatehouse serve gateway --workers 2` would. */
beforeAll(async () => {
  // Build the gateway and what it references. A type error elsewhere in the workspace (work in
  // progress) still emits JavaScript, so only a missing build output stops the test.
  spawnSync('npx', ['tsc', '-b', 'packages/gateway'], { cwd: root, stdio: 'ignore' })
  if (!existsSync(join(root, 'packages/gateway/dist/index.js'))) {
    throw new Error('packages/gateway did not build: run `npx tsc -b packages/gateway`')
  }
  pki = await createTestPki()
  upstream = await startEchoUpstream(pki)
  issuer = await startTokenIssuer(pki, AUDIENCE)
  const dir = mkdtempSync(join(tmpdir(), 'gateway-cluster-'))
  const port = await freePort()
  writeFileSync(join(dir, 'ca.pem'), pki.ca.cert)
  writeFileSync(join(dir, 'gateway.pem'), pki.server.cert)
  writeFileSync(
    join(dir, 'gateway.yaml'),
    stringify({
      listen: {
        host: '127.0.0.1',
        port,
        tls: { cert: { file: 'gateway.pem' }, key: { env: 'GATEWAY_TLS_KEY' } },
      },
      admin: { host: '127.0.0.1', port: 0 },
      issuers: {
        local: {
          issuer: issuer.issuer,
          jwksUri: issuer.jwksUri,
          ca: { file: 'ca.pem' },
          introspection: {
            endpoint: issuer.introspectionEndpoint,
            clientId: INTROSPECTION_CLIENT.id,
            clientSecret: { env: 'GATEWAY_INTROSPECTION_SECRET' },
          },
        },
      },
      upstreams: { echo: { url: upstream.url, ca: { file: 'ca.pem' } } },
      routes: [
        {
          id: 'shared-limit',
          match: { path: '/limited/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'public' },
          rateLimits: [{ name: 'everyone', key: 'route', limit: 10, windowSeconds: 3600 }],
        },
        {
          id: 'hello',
          match: { path: '/hello', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'public' },
        },
        {
          id: 'split',
          match: { path: '/split/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'split', issuer: 'local', audience: AUDIENCE },
        },
        {
          id: 'phantom',
          match: { path: '/phantom/**', methods: ['GET'] },
          upstream: 'echo',
          auth: { method: 'phantom', issuer: 'local', audience: AUDIENCE },
        },
      ],
    }),
  )
  gatewayUrl = `https://127.0.0.1:${port}`
  child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'support/cluster-main.mjs'), join(dir, 'gateway.yaml'), '2'],
    {
      cwd: root,
      env: {
        ...process.env,
        GATEWAY_TLS_KEY: pki.server.key,
        GATEWAY_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const ready = await waitFor(
    () => output.split('\n').find((line) => line.includes('"ready":true')),
    20_000,
  )
  adminUrl = (JSON.parse(ready) as { adminUrl: string }).adminUrl
}, 40_000)

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  await upstream?.close()
  await issuer?.close()
})

describe('--workers 2', () => {
  it('keeps a rate limit exact across workers: the primary owns the bucket', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 16; i++)
      statuses.push((await request(`${gatewayUrl}/limited/${i}`, pki.ca.cert)).status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(10)
    expect(statuses.filter((status) => status === 429)).toHaveLength(6)
    // Both workers answered (fresh connections are spread round-robin by the primary).
    const pids = new Set(
      output
        .split('\n')
        .filter((line) => line.includes('"routeId":"shared-limit"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    )
    expect(pids.size).toBe(2)
  })

  it('aggregates the workers metrics on the primary admin port', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get(`${adminUrl}/metrics`, (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString()
          })
          res.on('end', () => resolve(body))
        })
        .on('error', reject)
    })
    expect(text).toMatch(
      /gatehouse_gateway_requests_total\{route="shared-limit",status="200",client=""\} 10/,
    )
    expect(text).toMatch(
      /gatehouse_gateway_rate_limited_total\{route="shared-limit",policy="everyone"\} 6/,
    )
  })
})

describe('--workers 2 and revocation', () => {
  it('a revocation published at the primary evicts the cached JWT in every worker', async () => {
    const opaque = issuer.issueOpaque()
    const call = () =>
      request(`${gatewayUrl}/phantom/1`, pki.ca.cert, {
        headers: { authorization: `Bearer ${opaque}` },
      })
    // Fresh connections alternate between workers: after four calls both have the JWT cached.
    for (let i = 0; i < 4; i++) expect((await call()).status).toBe(200)
    issuer.revokeOpaque(opaque)
    const stillCached = []
    for (let i = 0; i < 4; i++) stillCached.push((await call()).status)
    expect(stillCached).toEqual([200, 200, 200, 200])
    const tokenHash = createHash('sha256').update(opaque).digest('base64url')
    await command(`revoke ${tokenHash}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const after = []
    for (let i = 0; i < 4; i++) after.push((await call()).status)
    expect(after).toEqual([401, 401, 401, 401])
  })
})

describe('--workers 2 and split tokens', () => {
  it('a split-token entry written at the primary is read by every worker', async () => {
    const jwt = await issuer.sign({ aud: AUDIENCE })
    const [header, payload, signature] = jwt.split('.') as [string, string, string]
    await command(
      `split ${createHash('sha256').update(signature).digest('base64url')} ${header}.${payload}`,
    )
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const res = await request(`${gatewayUrl}/split/1`, pki.ca.cert, {
        headers: { authorization: `Bearer ${signature}` },
      })
      statuses.push(res.status)
    }
    expect(statuses).toEqual([200, 200, 200, 200])
    const pids = new Set(
      output
        .split('\n')
        .filter((line) => line.includes('"routeId":"split"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    )
    expect(pids.size).toBe(2)
  })
})

describe('--workers 2 when a worker dies', () => {
  it('the primary starts another and the gateway keeps answering', async () => {
    const pidsServing = () =>
      new Set(
        output
          .split('\n')
          .filter((line) => line.includes('"routeId":"hello"'))
          .map((line) => (JSON.parse(line) as { pid: number }).pid),
      )
    for (let i = 0; i < 2; i++)
      expect((await request(`${gatewayUrl}/hello`, pki.ca.cert)).status).toBe(200)
    const [victim] = [...pidsServing()]
    expect(victim).toBeDefined()
    process.kill(victim as number, 'SIGKILL')
    await waitFor(() => output.split('\n').find((line) => line.includes('starting another')), 5_000)
    await waitFor(() => (pidsServingAfter().size === 2 ? 'yes' : undefined), 15_000)
    function pidsServingAfter(): Set<number> {
      void request(`${gatewayUrl}/hello`, pki.ca.cert).catch(() => undefined)
      const pids = pidsServing()
      pids.delete(victim as number)
      return pids
    }
    expect((await request(`${gatewayUrl}/hello`, pki.ca.cert)).status).toBe(200)
  })
})

/** Sends one command to the primary (see support/cluster-main.mjs) and waits until it is done. */
async function command(line: string): Promise<void> {
  child.stdin?.write(`${line}\n`)
  await waitFor(
    () => output.split('\n').find((entry) => entry.includes(JSON.stringify({ done: line }))),
    5_000,
  )
}

async function waitFor(find: () => string | undefined, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`gateway cluster did not start:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = http.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
