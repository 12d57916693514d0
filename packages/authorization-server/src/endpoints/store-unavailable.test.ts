import { afterEach, describe, expect, it, vi } from 'vitest'
import { TemporarilyUnavailable } from '../errors.js'
import { basic, startTestServer, type TestServer } from '../test-support/test-server.js'

let as: TestServer | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await as?.close()
  as = undefined
})

/** What the PostgreSQL driver throws when the database cannot be reached (store/postgres.ts). */
const storeDown = () =>
  new TemporarilyUnavailable(
    'the authorization server cannot reach its store; try again shortly',
    'store.unavailable',
    {
      cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), {
        code: 'ECONNREFUSED',
      }),
    },
  )

describe('the store is unreachable', () => {
  it('answers 503 temporarily_unavailable with Retry-After, logs it, and leaks nothing', async () => {
    const lines: string[] = []
    const { default: pino } = await import('pino')
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    as = await startTestServer({}, { logger })
    const secret = await as.createClient({
      clientId: 'svc',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    })
    vi.spyOn(as.store, 'getClient').mockRejectedValue(storeDown())
    const response = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', secret ?? '') },
    )
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    const body = await response.text()
    expect(JSON.parse(body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the authorization server cannot reach its store; try again shortly',
    })
    expect(body).not.toContain('10.0.0.5')
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'store unavailable',
        reason: 'store.unavailable',
        cause: 'ECONNREFUSED',
      }),
    )
    expect(lines.join('')).not.toContain('10.0.0.5')
    expect(lines.join('')).not.toContain(secret)
  })

  it('answers introspection and revocation callers the same way', async () => {
    as = await startTestServer()
    const secret = await as.createClient({
      clientId: 'gateway',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    })
    vi.spyOn(as.store, 'getClient').mockRejectedValue(storeDown())
    for (const path of ['/introspect', '/revoke']) {
      const response = await as.post(
        path,
        { token: 'x' },
        { authorization: basic('gateway', secret ?? '') },
      )
      expect(response.status, path).toBe(503)
      expect(await response.json(), path).toMatchObject({ error: 'temporarily_unavailable' })
    }
  })
})
