/**
 * `gatehouse start` as users run it: the real CLI process on free ports in a temp dir. The test
 * waits for `.gatehouse/dev.json`, then calls every route it lists with the right credentials
 * (which must succeed) and without them (which must fail) — client credentials, a user signed in
 * through the login page with PKCE (public client), token exchange for a JWT, and the SPA's
 * cookie session through the token handler.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowser } from '../support/browser.js'

interface DevJson {
  issuer: string
  gatewayUrl: string
  tokenHandlerUrl: string
  spaUrl: string
  metricsUrl: string
  caCertFile: string
  clients: {
    client_id: string
    client_secret: string | null
    redirect_uris: string[]
    token_format: string
  }[]
  users: {
    username: string
    password: string
    totp_secret: string | null
    claims: Record<string, string>
  }[]
  routes: {
    name: string
    url: string
    method: string
    auth: string
    scope: string
    audience: string
  }[]
}

const cli = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url))
let dir: string
let child: ChildProcess
let logs = ''
let dev: DevJson
let fetchCa: typeof fetch

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!existsSync(file)) {
    if (child.exitCode !== null)
      throw new Error(`gatehouse start exited (${child.exitCode}):\n${logs}`)
    if (Date.now() > deadline) throw new Error(`no dev.json after ${timeoutMs} ms:\n${logs}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

beforeAll(async () => {
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run npm run build first (npm test does)`)
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-dev-stack-'))
  child = spawn(process.execPath, [cli, 'start', '--ports', 'free', '--dir', '.gatehouse'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk) => {
    logs += chunk
  })
  child.stderr?.on('data', (chunk) => {
    logs += chunk
  })
  await waitForFile(join(dir, '.gatehouse/dev.json'), 90_000)
  dev = JSON.parse(await readFile(join(dir, '.gatehouse/dev.json'), 'utf8')) as DevJson
  const ca = await readFile(join(dir, dev.caCertFile), 'utf8')
  const dispatcher = new Agent({ connect: { ca } })
  fetchCa = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch
}, 120_000)

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    await exited
  }
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

function client(id: string) {
  const found = dev.clients.find((candidate) => candidate.client_id === id)
  if (found === undefined) throw new Error(`dev.json has no client ${id}`)
  return found
}

async function token(
  form: Record<string, string>,
  basic?: string,
): Promise<Record<string, string>> {
  const response = await fetchCa(`${dev.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic === undefined
        ? {}
        : { authorization: `Basic ${Buffer.from(basic).toString('base64')}` }),
    },
    body: new URLSearchParams(form).toString(),
  })
  const body = (await response.json()) as Record<string, string>
  if (response.status !== 200)
    throw new Error(`token endpoint: ${response.status} ${JSON.stringify(body)}`)
  return body
}

async function clientCredentials(id: string, scope: string, resource: string): Promise<string> {
  const { client_secret: secret } = client(id)
  return (await token({ grant_type: 'client_credentials', scope, resource }, `${id}:${secret}`))
    .access_token as string
}

/** Alice signs in through the real login (and consent) pages as the public PKCE client. */
async function userToken(username: string, scope: string): Promise<string> {
  const user = dev.users.find((candidate) => candidate.username === username)
  const cliClient = client('demo-cli')
  const redirect = cliClient.redirect_uris[0] as string
  const verifier = randomBytes(32).toString('base64url')
  const url = new URL(`${dev.issuer}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-cli',
    redirect_uri: redirect,
    scope,
    state: randomBytes(16).toString('base64url'),
    resource: 'urn:gatehouse:api:orders',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString()
  const browser = createBrowser(dev.issuer, fetchCa)
  const login = await browser.follow(await browser.get(url.toString()))
  const afterLogin = await browser.submit(login, { username, password: user?.password ?? '' })
  const callback = afterLogin.location?.startsWith(redirect)
    ? afterLogin
    : await browser.submit(afterLogin, { decision: 'allow' })
  const code = new URL(callback.location ?? '').searchParams.get('code')
  if (code === null) throw new Error(`no code: ${callback.status} ${callback.html.slice(0, 200)}`)
  const tokens = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirect,
    code_verifier: verifier,
    client_id: 'demo-cli',
  })
  return tokens.access_token as string
}

async function call(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetchCa(url, { headers })
  await response.arrayBuffer()
  return response.status
}

function route(name: string) {
  const found = dev.routes.find((candidate) => candidate.name === name)
  if (found === undefined) throw new Error(`dev.json has no route ${name}`)
  return found
}

describe('gatehouse start — dev.json and every route', () => {
  it('writes dev.json in the agreed shape, with every auth method among its routes', () => {
    expect(Object.keys(dev)).toEqual([
      'issuer',
      'gatewayUrl',
      'tokenHandlerUrl',
      'spaUrl',
      'metricsUrl',
      'caCertFile',
      'clients',
      'users',
      'routes',
    ])
    expect(dev.caCertFile).toMatch(/^\.gatehouse\/.*ca\.pem$/)
    expect(new Set(dev.routes.map((candidate) => candidate.auth))).toEqual(
      new Set(['phantom', 'jwt', 'split', 'cookie', 'public']),
    )
    expect(dev.users.map((user) => user.username)).toEqual(['alice', 'bob', 'admin'])
    expect(dev.users.find((user) => user.username === 'bob')?.totp_secret).toMatch(/^[A-Z2-7]+$/)
    for (const item of dev.clients) {
      expect(Object.keys(item)).toEqual([
        'client_id',
        'client_secret',
        'token_endpoint_auth_method',
        'token_format',
        'grant_types',
        'scope',
        'redirect_uris',
        'private_key_file',
        'purpose',
      ])
    }
  })

  it('echo and limited (phantom): client credentials succeed, no token or a foreign token fails', async () => {
    const opaque = await clientCredentials('demo-partner', 'echo', 'urn:gatehouse:api:echo')
    expect(await call(route('echo').url, { authorization: `Bearer ${opaque}` })).toBe(200)
    expect(await call(route('echo').url)).toBe(401)
    expect(await call(route('limited').url, { authorization: `Bearer ${opaque}` })).toBe(200)
    expect(await call(route('limited').url)).toBe(401)
    const forOrders = await clientCredentials(
      'demo-partner',
      'orders:read',
      'urn:gatehouse:api:orders',
    )
    expect(await call(route('echo').url, { authorization: `Bearer ${forOrders}` })).toBe(401)
  })

  it('orders-phantom: alice signed in (PKCE) reads her order and not bob’s; no token fails', async () => {
    const alice = await userToken('alice', 'openid profile orders:read')
    expect(await call(route('orders-phantom').url, { authorization: `Bearer ${alice}` })).toBe(200)
    expect(await call(route('orders-phantom').url)).toBe(401)
    // Bob has MFA: his sign-in needs a TOTP code, so use the admin (role claim) to see a 200 for
    // another customer's order, and alice's token on bob's order to see the BOLA refusal (404).
    const admin = await userToken('admin', 'orders:read')
    expect(await call(route('orders-phantom').url, { authorization: `Bearer ${admin}` })).toBe(200)
    const bobsOrder = route('orders-phantom').url.replace('ord-000001', 'ord-000003')
    expect(await call(bobsOrder, { authorization: `Bearer ${alice}` })).toBe(404)
  })

  it('orders-jwt: a JWT from token exchange (internal service on behalf of alice) succeeds; an opaque token fails', async () => {
    const alice = await userToken('alice', 'orders:read')
    const internal = client('demo-internal')
    const exchanged = await token({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: alice,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'urn:gatehouse:api:orders',
      scope: 'orders:read',
      client_id: 'demo-internal',
      client_secret: internal.client_secret ?? '',
    })
    expect(exchanged.access_token).toMatch(/^eyJ/)
    expect(
      await call(route('orders-jwt').url, { authorization: `Bearer ${exchanged.access_token}` }),
    ).toBe(200)
    expect(await call(route('orders-jwt').url)).toBe(401)
    expect(await call(route('orders-jwt').url, { authorization: `Bearer ${alice}` })).toBe(401)
  })

  it('spa-orders (cookie): the token handler session cookie succeeds, no cookie fails', async () => {
    const origin = dev.spaUrl
    const jar = new Map<string, string>()
    const remember = (response: Response) => {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const eq = pair?.indexOf('=') ?? -1
        if (pair === undefined || eq < 0) continue
        const value = pair.slice(eq + 1)
        if (value === '' || /max-age=0/i.test(line)) jar.delete(pair.slice(0, eq))
        else jar.set(pair.slice(0, eq), value)
      }
    }
    const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const start = await fetchCa(`${dev.tokenHandlerUrl}/login/start`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: '{}',
    })
    remember(start)
    const { authorizationUrl } = (await start.json()) as { authorizationUrl: string }
    const alice = dev.users.find((user) => user.username === 'alice')
    const browser = createBrowser(dev.issuer, fetchCa)
    const login = await browser.follow(await browser.get(authorizationUrl))
    const afterLogin = await browser.submit(login, {
      username: 'alice',
      password: alice?.password ?? '',
    })
    const callback = afterLogin.location?.startsWith(origin)
      ? afterLogin
      : await browser.submit(afterLogin, { decision: 'allow' })
    const end = await fetchCa(`${dev.tokenHandlerUrl}/login/end`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', cookie: cookieHeader() },
      body: JSON.stringify({ pageUrl: callback.location }),
    })
    remember(end)
    expect(await end.json()).toMatchObject({ isLoggedIn: true, handled: true })
    expect(await call(route('spa-orders').url, { cookie: cookieHeader(), origin })).toBe(200)
    expect(await call(route('spa-orders').url, { origin })).toBe(401)
  })

  it('echo-split (split): the signature part succeeds, with the JWT rebuilt upstream; no token or a forged one fails', async () => {
    const signature = await clientCredentials('demo-split', 'echo', 'urn:gatehouse:api:echo')
    expect(signature).not.toContain('.')
    const response = await fetchCa(route('echo-split').url, {
      headers: { authorization: `Bearer ${signature}` },
    })
    expect(response.status).toBe(200)
    const seen = (await response.json()) as { headers: Record<string, string> }
    expect(seen.headers.authorization).toMatch(/^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(await call(route('echo-split').url)).toBe(401)
    const forged = `${signature.slice(0, -4)}AAAA`
    expect(await call(route('echo-split').url, { authorization: `Bearer ${forged}` })).toBe(401)
  })

  it('public: answers without credentials', async () => {
    expect(await call(route('public').url)).toBe(200)
  })

  it('serves the SPA, the token handler and metrics at the URLs it wrote', async () => {
    expect(await call(dev.spaUrl)).toBe(200)
    expect(await call(`${dev.tokenHandlerUrl}/session`, { origin: dev.spaUrl })).toBeLessThan(500)
    const metrics = await undiciFetch(dev.metricsUrl)
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toContain('# TYPE')
  })
})
