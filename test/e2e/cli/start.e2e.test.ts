import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type RunningStack, startDevStack } from '@gatehouse/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** `gatehouse start` in a temp dir on free ports, driven over HTTPS with the CA it made. */
let dir: string
let stack: RunningStack
let output = ''
let ca: string

function capture(): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      output += chunk.toString()
      done()
    },
  })
}

function get(url: string, token?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        url,
        {
          ca,
          agent: false,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        },
        (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          )
        },
      )
      req.on('error', reject)
      req.end()
    },
  )
}

function post(url: string, form: Record<string, string>, basic?: string) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const body = new URLSearchParams(form).toString()
    const req = request(
      url,
      {
        method: 'POST',
        ca,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(basic === undefined
            ? {}
            : { authorization: `Basic ${Buffer.from(basic).toString('base64')}` }),
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-start-'))
  stack = await startDevStack({ dir: join(dir, '.gatehouse'), ports: 'free', out: capture() })
  ca = await readFile(join(dir, '.gatehouse/tls/ca.pem'), 'utf8')
}, 60_000)

afterAll(async () => {
  await stack?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('gatehouse start', () => {
  it('makes its own CA and keeps generated secrets private (mode 0600)', async () => {
    expect(ca).toContain('BEGIN CERTIFICATE')
    expect((await stat(join(dir, '.gatehouse/secrets.json'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, '.gatehouse/tls/ca-key.pem'))).mode & 0o777).toBe(0o600)
  })

  it('prints the issuer and the demo credentials, which work against the running server', async () => {
    expect(output).toContain(stack.issuer)
    const secret = /demo-partner\s+secret (\S+)/.exec(output)?.[1]
    expect(secret).toMatch(/^gcs_/)
    const ok = await post(
      `${stack.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'orders:read' },
      `demo-partner:${secret}`,
    )
    expect(ok.status).toBe(200)
    expect(ok.body.token_type).toBe('Bearer')
    const refused = await post(
      `${stack.issuer}/token`,
      { grant_type: 'client_credentials' },
      'demo-partner:wrong-secret',
    )
    expect(refused.status).toBe(401)
    expect(refused.body.error).toBe('invalid_client')
  })

  it('puts the gateway in front of the echo upstream: opaque token in, JWT out (phantom token)', async () => {
    const secret = /demo-partner\s+secret (\S+)/.exec(output)?.[1]
    const issued = await post(
      `${stack.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'echo', resource: 'urn:gatehouse:api:echo' },
      `demo-partner:${secret}`,
    )
    const opaque = issued.body.access_token as string
    expect(opaque).toMatch(/^gat_/)
    const echoed = await get(`${stack.gatewayUrl}/echo/hello`, opaque)
    expect(echoed.status).toBe(200)
    const seen = JSON.parse(echoed.body) as { path: string; headers: Record<string, string> }
    expect(seen.path).toBe('/echo/hello')
    expect(seen.headers.authorization).toMatch(/^Bearer eyJ/)
    expect(seen.headers.authorization).not.toContain(opaque)

    const missing = await get(`${stack.gatewayUrl}/echo/hello`)
    expect(missing.status).toBe(401)
    expect(String(missing.headers['www-authenticate'])).toMatch(/^Bearer /)
    expect((await get(`${stack.gatewayUrl}/echo/hello`, 'gat_not-a-real-token')).status).toBe(401)

    // The `limited` route allows a few requests per 10 s per client, then 429 with Retry-After.
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push((await get(`${stack.gatewayUrl}/limited/x`, opaque)).status)
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200])
    expect(statuses.slice(3)).toEqual([429, 429])
  })

  it('refuses a token without the route scope (403 insufficient_scope)', async () => {
    const secret = /demo-partner\s+secret (\S+)/.exec(output)?.[1]
    const issued = await post(
      `${stack.issuer}/token`,
      {
        grant_type: 'client_credentials',
        scope: 'orders:read',
        resource: 'urn:gatehouse:api:echo',
      },
      `demo-partner:${secret}`,
    )
    const refused = await get(`${stack.gatewayUrl}/echo/hello`, issued.body.access_token as string)
    expect(refused.status).toBe(403)
    expect(String(refused.headers['www-authenticate'])).toContain('insufficient_scope')
  })

  it('reuses its data on a second start: same CA, same demo passwords', async () => {
    const before = output
    const again = await startDevStack({
      dir: join(dir, '.gatehouse'),
      ports: 'free',
      out: capture(),
    })
    try {
      const second = output.slice(before.length)
      const password = (text: string) => /alice\s+password (\S+)/.exec(text)?.[1]
      expect(password(second)).toBe(password(before))
      expect(await readFile(join(dir, '.gatehouse/tls/ca.pem'), 'utf8')).toBe(ca)
    } finally {
      await again.close()
    }
  })
})
