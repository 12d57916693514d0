import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSpaHandler, requestPath } from './create-spa-handler.js'

const CONFIG = {
  tokenHandlerUrl: 'https://localhost:8445/tokenhandler/',
  apiBaseUrl: 'https://localhost:8444',
  ordersPath: '/spa/api/orders',
}
const SECRET = 'secret outside the build folder'
const INDEX = '<!doctype html><title>spa</title><script type="module" src="/main.js"></script>'

interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

let workDir: string
let distDir: string
let server: Server | undefined

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'gatehouse-spa-'))
  distDir = join(workDir, 'public')
  await mkdir(join(distDir, 'assets'), { recursive: true })
  await writeFile(join(distDir, 'index.html'), INDEX)
  await writeFile(join(distDir, 'main.js'), 'document.title = "spa"\n')
  await writeFile(join(distDir, 'styles.css'), 'body { margin: 0 }\n')
  await writeFile(join(distDir, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  await writeFile(join(distDir, '.env'), SECRET)
  await writeFile(join(distDir, 'notes.xyz'), SECRET)
  await writeFile(join(workDir, 'secret.txt'), SECRET)
})

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
  await rm(workDir, { recursive: true, force: true })
})

async function serve(options: { distDir?: string } = {}): Promise<number> {
  const handler = createSpaHandler({ distDir: options.distDir ?? distDir, config: CONFIG })
  const listening = createServer(handler)
  server = listening
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve))
  return (listening.address() as AddressInfo).port
}

/** A raw request: the path goes out exactly as written (fetch would normalise `..`). */
function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function expectSecurityHeaders(reply: Reply): void {
  const csp = String(reply.headers['content-security-policy'])
  expect(csp).toContain("default-src 'self'")
  expect(csp).toContain("script-src 'self'")
  expect(csp).toContain("connect-src 'self' https://localhost:8445 https://localhost:8444")
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).toContain("object-src 'none'")
  expect(csp).toContain("base-uri 'none'")
  expect(csp).toContain("require-trusted-types-for 'script'")
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/)
  expect(reply.headers['x-content-type-options']).toBe('nosniff')
  expect(reply.headers['referrer-policy']).toBe('no-referrer')
  expect(reply.headers['x-frame-options']).toBe('DENY')
}

describe('createSpaHandler', () => {
  it('serves index.html at / with the security headers', async () => {
    const port = await serve()
    const reply = await send(port, '/')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(reply.body).toBe(INDEX)
    expectSecurityHeaders(reply)
  })

  it('serves built assets with their content types, nested folders included', async () => {
    const port = await serve()
    const script = await send(port, '/main.js')
    expect(script.status).toBe(200)
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expectSecurityHeaders(script)
    expect((await send(port, '/styles.css')).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    )
    expect((await send(port, '/assets/logo.svg')).headers['content-type']).toBe('image/svg+xml')
  })

  it('serves /config.json from its options, normalised and never cached', async () => {
    const port = await serve()
    const reply = await send(port, '/config.json')
    expect(reply.status).toBe(200)
    expect(reply.headers['cache-control']).toBe('no-store')
    expect(JSON.parse(reply.body)).toEqual({
      tokenHandlerUrl: 'https://localhost:8445/tokenhandler',
      apiBaseUrl: 'https://localhost:8444',
      ordersPath: '/spa/api/orders',
      csrfHeaderName: 'x-gatehouse-csrf',
    })
    expectSecurityHeaders(reply)
  })

  it('answers index.html for the SPA routes, such as the OAuth callback with its query', async () => {
    const port = await serve()
    for (const path of ['/callback?code=abc&state=xyz&iss=https%3A%2F%2Flocalhost', '/orders/7']) {
      const reply = await send(port, path)
      expect(reply.status, path).toBe(200)
      expect(reply.body, path).toBe(INDEX)
      expectSecurityHeaders(reply)
    }
  })

  it('answers 404 for a missing asset, an unknown file type and a dotfile, never their content', async () => {
    const port = await serve()
    for (const path of ['/missing.js', '/notes.xyz', '/.env', '/assets/.env', '/favicon.ico']) {
      const reply = await send(port, path)
      expect(reply.status, path).toBe(404)
      expect(reply.headers['content-type'], path).toBe('application/problem+json')
      expect(reply.body, path).not.toContain(SECRET)
      expectSecurityHeaders(reply)
    }
  })

  it('refuses path traversal, plain and encoded, without reading the file', async () => {
    const port = await serve()
    const attacks = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/assets\\..\\..\\secret.txt',
      '/./index.html',
      '/index.html%00.js',
      '/%zz',
      '//evil.example/secret.txt',
    ]
    for (const path of attacks) {
      const reply = await send(port, path)
      expect(reply.status, path).toBe(400)
      expect(reply.body, path).not.toContain(SECRET)
      expect(JSON.parse(reply.body), path).toMatchObject({ status: 400, title: 'Bad Request' })
      expectSecurityHeaders(reply)
    }
  })

  it('refuses other methods with 405 and Allow', async () => {
    const port = await serve()
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const reply = await send(port, '/', { method })
      expect(reply.status, method).toBe(405)
      expect(reply.headers.allow, method).toBe('GET, HEAD')
      expectSecurityHeaders(reply)
    }
  })

  it('answers HEAD without a body and a matching ETag with 304', async () => {
    const port = await serve()
    const head = await send(port, '/main.js', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    const etag = String(head.headers.etag)
    const cached = await send(port, '/main.js', { headers: { 'if-none-match': etag } })
    expect(cached.status).toBe(304)
    expect(cached.body).toBe('')
    expectSecurityHeaders(cached)
  })

  it('answers 503 until the SPA is built, then serves it without a restart', async () => {
    const later = join(workDir, 'not-built-yet')
    const port = await serve({ distDir: later })
    const before = await send(port, '/')
    expect(before.status).toBe(503)
    expect(JSON.parse(before.body).detail).toContain('npm run build')
    expect((await send(port, '/config.json')).status).toBe(200)
    await mkdir(later)
    await writeFile(join(later, 'index.html'), INDEX)
    const after = await send(port, '/')
    expect(after.status).toBe(200)
    expect(after.body).toBe(INDEX)
  })

  it('refuses a configuration that would weaken the page at start-up', () => {
    const bad = [
      { ...CONFIG, tokenHandlerUrl: 'http://localhost:8445' },
      { ...CONFIG, apiBaseUrl: 'https://user:pass@localhost:8444' },
      { ...CONFIG, apiBaseUrl: 'https://localhost:8444/?x=1' },
      { ...CONFIG, ordersPath: '/spa/../admin' },
      { ...CONFIG, ordersPath: 'spa/api/orders' },
      { ...CONFIG, csrfHeaderName: 'X-CSRF' },
      { ...CONFIG, scriptSrc: "'unsafe-inline'" },
    ]
    for (const config of bad) {
      expect(() => createSpaHandler({ distDir, config }), JSON.stringify(config)).toThrow(TypeError)
    }
  })
})

describe('requestPath', () => {
  it('decodes a clean path and drops the query', () => {
    expect(requestPath('/callback?code=1')).toBe('/callback')
    expect(requestPath('/caf%C3%A9')).toBe('/café')
  })

  it('refuses what is not a clean origin-form path', () => {
    for (const target of [
      undefined,
      '',
      '*',
      'https://evil.example/',
      '//x',
      '/a/%2e/b',
      '/\u0001',
    ]) {
      expect(requestPath(target), String(target)).toBeNull()
    }
  })
})
