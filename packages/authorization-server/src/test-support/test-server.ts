/**
 * Test support: a real authorization server on 127.0.0.1:0 (plain HTTP: unit tests exercise the
 * protocol; the e2e suite runs it over HTTPS), with an in-memory SQLite store and a movable clock.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type ClientInput, createClient } from '../admin/clients.js'
import {
  type AuthorizationServerConfigInput,
  parseAuthorizationServerConfig,
} from '../config/schema.js'
import {
  type AuthorizationServer,
  type AuthorizationServerDeps,
  createAuthorizationServer,
} from '../create-server.js'
import { createSqliteStore } from '../store/sqlite.js'
import type { AuthorizationServerStore } from '../store/store.js'

export const TEST_ISSUER = 'https://as.gatehouse.test'
export const ORDERS_API = 'https://api.gatehouse.test/orders'
export const BILLING_API = 'https://api.gatehouse.test/billing'

export interface TestServer {
  readonly url: string
  readonly server: AuthorizationServer
  readonly store: AuthorizationServerStore
  readonly clock: { now(): number; advance(ms: number): void; set(ms: number): void }
  readonly keyEncryptionKey: Buffer
  createClient(input: Partial<ClientInput> & { clientId: string }): Promise<string | null>
  post(
    path: string,
    form: Record<string, string> | string,
    headers?: Record<string, string>,
  ): Promise<Response>
  close(): Promise<void>
}

export function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value)
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`
}

export async function startTestServer(
  overrides: Partial<AuthorizationServerConfigInput> = {},
  deps: Pick<AuthorizationServerDeps, 'logger' | 'revocations' | 'onError'> = {},
): Promise<TestServer> {
  let now = Date.parse('2026-03-01T12:00:00Z')
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
    set: (ms: number) => {
      now = ms
    },
  }
  const store = createSqliteStore({ path: ':memory:' })
  const keyEncryptionKey = randomBytes(32)
  const config = parseAuthorizationServerConfig({
    issuer: TEST_ISSUER,
    keys: { encryptionKey: { env: 'UNUSED' } },
    scopes: {
      'orders:read': { claims: ['customer_id'] },
      'orders:write': { claims: ['customer_id'] },
      'billing:read': {},
      profile: { claims: ['name'] },
      admin: {},
    },
    ...overrides,
  })
  const server = await createAuthorizationServer(config, {
    store,
    secrets: { keyEncryptionKey },
    now: clock.now,
    maintenance: false,
    ...deps,
  })
  const http: Server = createServer(server.handler)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return {
    url,
    server,
    store,
    clock,
    keyEncryptionKey,
    async createClient(input) {
      const { clientSecret } = await createClient(
        store,
        { name: input.clientId, scopes: ['orders:read'], audiences: [ORDERS_API], ...input },
        { now: clock.now() },
      )
      return clientSecret
    },
    post(path, form, headers = {}) {
      return fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
      })
    },
    async close() {
      await server.close()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await store.close()
    },
  }
}
