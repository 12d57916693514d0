import { describe, expect, it } from 'vitest'
import { basic, startTestServer } from './test-support/test-server.js'

describe('access log', () => {
  it('writes one line per request with the denial reason, and never a secret, header or query', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = {
      info: (entry: Record<string, unknown>) => void lines.push(entry),
      error: (entry: Record<string, unknown>) => void lines.push(entry),
    }
    const as = await startTestServer({}, { logger })
    const secret = (await as.createClient({ clientId: 'svc' })) as string
    await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', `${secret}-wrong`) },
    )
    await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', secret) },
    )
    await fetch(`${as.url}/logout?id_token_hint=eyJhbGciOiJFUzI1NiJ9.e30.sig`)
    await as.close()
    expect(lines[0]).toMatchObject({
      method: 'POST',
      path: '/token',
      status: 401,
      reason: 'client_auth.wrong_secret',
      requestId: expect.any(String),
    })
    expect(lines[1]).toMatchObject({ path: '/token', status: 200 })
    expect(lines[1]?.reason).toBeUndefined()
    expect(lines[2]).toMatchObject({ path: '/logout' })
    const all = JSON.stringify(lines)
    expect(all).not.toContain(secret)
    expect(all).not.toContain('eyJhbGciOiJFUzI1NiJ9')
    expect(all).not.toMatch(/authorization|Basic /i)
  })
})

describe('an issuer with a path', () => {
  it('serves RFC 8414 metadata at the well-known URI with the path appended, and endpoints under the path', async () => {
    const as = await startTestServer({ issuer: 'https://as.example/tenant-a' })
    const secret = (await as.createClient({ clientId: 'svc' })) as string
    const metadata = (await (
      await fetch(`${as.url}/.well-known/oauth-authorization-server/tenant-a`)
    ).json()) as Record<string, unknown>
    expect(metadata).toMatchObject({
      issuer: 'https://as.example/tenant-a',
      token_endpoint: 'https://as.example/tenant-a/token',
    })
    expect((await fetch(`${as.url}/tenant-a/.well-known/openid-configuration`)).status).toBe(200)
    expect((await fetch(`${as.url}/.well-known/oauth-authorization-server`)).status).toBe(404)
    const token = await as.post(
      '/tenant-a/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', secret) },
    )
    expect(token.status).toBe(200)
    expect(
      (
        await as.post(
          '/token',
          { grant_type: 'client_credentials' },
          { authorization: basic('svc', secret) },
        )
      ).status,
    ).toBe(404)
    await as.close()
  })
})
