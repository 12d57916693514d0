import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  basic,
  ORDERS_API,
  startTestServer,
  TEST_ISSUER,
  type TestServer,
} from '../test-support/test-server.js'
import { adminAudience } from './admin.js'

let as: TestServer
let adminToken: string
let readerToken: string

async function token(clientId: string, secret: string, params: Record<string, string> = {}) {
  const response = await as.post(
    '/token',
    { grant_type: 'client_credentials', ...params },
    { authorization: basic(clientId, secret) },
  )
  return ((await response.json()) as { access_token: string }).access_token
}

beforeEach(async () => {
  as = await startTestServer()
  const adminSecret = await as.createClient({
    clientId: 'admin-cli',
    scopes: ['admin'],
    audiences: [adminAudience(TEST_ISSUER)],
  })
  adminToken = await token('admin-cli', adminSecret ?? '')
  const readerSecret = await as.createClient({
    clientId: 'reader',
    scopes: ['orders:read', 'admin'],
    audiences: [ORDERS_API, adminAudience(TEST_ISSUER)],
  })
  readerToken = await token('reader', readerSecret ?? '', {
    scope: 'orders:read',
    resource: adminAudience(TEST_ISSUER),
  })
})
afterEach(async () => {
  await as.close()
})

function admin(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return fetch(`${as.url}/admin/${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? adminToken}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
}

describe('admin API', () => {
  it('creates a client, shows its secret once, never its hash, and the secret works', async () => {
    const created = await admin('clients', {
      method: 'POST',
      body: {
        clientId: 'partner',
        name: 'Partner',
        scopes: ['orders:read'],
        audiences: [ORDERS_API],
      },
    })
    expect(created.status).toBe(201)
    const body = (await created.json()) as {
      client: Record<string, unknown>
      client_secret: string
    }
    expect(body.client_secret).toMatch(/^gcs_/)
    expect(body.client.secretHash).toBeUndefined()
    expect(await token('partner', body.client_secret)).toMatch(/^gat_/)
    const listed = (await (await admin('clients')).json()) as { clients: Record<string, unknown>[] }
    expect(listed.clients.map((client) => client.clientId)).toContain('partner')
    expect(JSON.stringify(listed)).not.toContain(body.client_secret)
    const rotated = (await (await admin('clients/partner/secret', { method: 'POST' })).json()) as {
      client_secret: string
    }
    const old = await as.post(
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('partner', body.client_secret) },
    )
    expect(old.status).toBe(401)
    expect(await token('partner', rotated.client_secret)).toMatch(/^gat_/)
    expect((await admin('clients/partner', { method: 'DELETE' })).status).toBe(200)
    expect((await admin('clients/partner')).status).toBe(404)
  })

  it('creates users with TOTP, unlocks them, and never shows password hashes', async () => {
    const created = await admin('users', {
      method: 'POST',
      body: {
        username: 'dave',
        password: 'a long password',
        totp: true,
        claims: { customer_id: 'c-9' },
      },
    })
    expect(created.status).toBe(201)
    const body = (await created.json()) as { user: Record<string, unknown>; totp_secret: string }
    expect(body.totp_secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(body.user).toMatchObject({ username: 'dave', mfa: true })
    expect(JSON.stringify(body.user)).not.toContain('scrypt')
    const unlocked = await admin(`users/${String(body.user.id)}/unlock`, { method: 'POST' })
    expect(await unlocked.json()).toMatchObject({ failedLogins: 0, lockedUntil: null })
    const duplicate = await admin('users', {
      method: 'POST',
      body: { username: 'dave', password: 'a long password' },
    })
    expect(await duplicate.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('changes a client registration, validated as a whole, keeping its id and secret', async () => {
    const created = (await (
      await admin('clients', {
        method: 'POST',
        body: { clientId: 'app', name: 'App', scopes: ['orders:read'], audiences: [ORDERS_API] },
      })
    ).json()) as { client_secret: string }
    const patched = await admin('clients/app', {
      method: 'PATCH',
      body: { scopes: ['orders:read', 'orders:write'], name: 'App v2' },
    })
    expect(await patched.json()).toMatchObject({
      clientId: 'app',
      name: 'App v2',
      scopes: ['orders:read', 'orders:write'],
    })
    const token = await as.post(
      '/token',
      { grant_type: 'client_credentials', scope: 'orders:write' },
      { authorization: basic('app', created.client_secret) },
    )
    expect(token.status).toBe(200)
    const invalid = await admin('clients/app', {
      method: 'PATCH',
      body: { grantTypes: ['authorization_code'] },
    })
    expect(await invalid.json()).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining('redirectUris'),
    })
    const forbidden = await admin('clients/app', {
      method: 'PATCH',
      body: { tokenEndpointAuthMethod: 'none' },
    })
    expect(forbidden.status).toBe(400)
    const tooLong = await admin('clients/app', {
      method: 'PATCH',
      body: { accessTokenTtlSeconds: 3_600 },
    })
    expect(tooLong.status).toBe(400)
    expect((await as.store.getClient('app'))?.tokenEndpointAuthMethod).toBe('client_secret_basic')
    expect((await admin('clients/nobody', { method: 'PATCH', body: { name: 'x' } })).status).toBe(
      404,
    )
  })

  it('disables a user and replaces their claims; a weak password is refused', async () => {
    const created = (await (
      await admin('users', {
        method: 'POST',
        body: { username: 'gina', password: 'a long password' },
      })
    ).json()) as { user: { id: string } }
    const disabled = await admin(`users/${created.user.id}`, {
      method: 'PATCH',
      body: { disabled: true, claims: { role: 'x' } },
    })
    expect(await disabled.json()).toMatchObject({ disabled: true, claims: { role: 'x' } })
    expect((await as.store.getUserById(created.user.id))?.disabled).toBe(true)
    const bad = await admin(`users/${created.user.id}`, {
      method: 'PATCH',
      body: { password: 'short' },
    })
    expect(bad.status).toBe(400)
  })

  it('lists keys without private material, rotates only when the next key is published long enough, and audits', async () => {
    const keys = (await (await admin('keys')).json()) as { keys: Record<string, unknown>[] }
    expect(keys.keys).toHaveLength(2)
    expect(JSON.stringify(keys)).not.toContain('v1.')
    const early = await admin('keys/rotate', { method: 'POST' })
    expect(await early.json()).toMatchObject({ error: 'invalid_request' })
    as.clock.advance(400_000)
    const rotated = await admin('keys/rotate', { method: 'POST' })
    expect(rotated.status).toBe(200)
    const trail = (await (await admin('audit?type=key.rotated')).json()) as {
      events: Record<string, unknown>[]
    }
    expect(trail.events).toHaveLength(1)
    expect(trail.events[0]).toMatchObject({ clientId: 'admin-cli', type: 'key.rotated' })
  })

  it('queries the audit trail by token id', async () => {
    const issued = (await (await admin('audit?type=token.issued&client_id=admin-cli')).json()) as {
      events: { tokenId: string }[]
    }
    const jti = issued.events[0]?.tokenId ?? ''
    const byToken = (await (await admin(`audit?token_id=${jti}`)).json()) as { events: unknown[] }
    expect(byToken.events).toHaveLength(1)
    expect((await admin('audit?type=nope')).status).toBe(400)
    expect((await admin('audit?since=yesterday')).status).toBe(400)
  })

  it('refuses without a token, with a token lacking the admin scope, and with a token for another audience', async () => {
    const anonymous = await fetch(`${as.url}/admin/clients`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /)
    const noScope = await admin('clients', { token: readerToken })
    expect(noScope.status).toBe(403)
    expect(await noScope.json()).toMatchObject({ error: 'insufficient_scope' })
    const ordersSecret = await as.createClient({
      clientId: 'orders-admin',
      scopes: ['admin'],
      audiences: [ORDERS_API],
    })
    const wrongAudience = await admin('clients', {
      token: await token('orders-admin', ordersSecret ?? ''),
    })
    expect(wrongAudience.status).toBe(401)
    const created = await admin('clients', {
      method: 'POST',
      token: readerToken,
      body: { name: 'x' },
    })
    expect(created.status).toBe(403)
    expect((await as.store.listClients()).map((client) => client.clientId)).not.toContain('x')
  })

  it('answers bad input with invalid_request naming the field, and unknown paths with 404', async () => {
    const bad = await admin('clients', {
      method: 'POST',
      body: {
        name: 'x',
        redirectUris: ['http://evil.example/cb'],
        grantTypes: ['authorization_code'],
      },
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining('redirectUris'),
    })
    const notJson = await fetch(`${as.url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{',
    })
    expect(notJson.status).toBe(400)
    expect((await admin('nope')).status).toBe(404)
    expect((await admin('clients/%E0%A4%A')).status).toBe(404)
    expect((await admin('keys', { method: 'DELETE' })).status).toBe(405)
  })
})
