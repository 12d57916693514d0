import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { TemporarilyUnavailable } from '../errors.js'
import { asUnavailable, createPostgresStore } from './postgres.js'
import type { AuthorizationServerStore } from './store.js'

// No PostgreSQL needed: these talk to ports where no database answers, through the real pg driver.
const stores: AuthorizationServerStore[] = []
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  for (const server of servers.splice(0)) server.close()
})

async function storeAt(url: string): Promise<AuthorizationServerStore> {
  const store = await createPostgresStore({ url, migrate: false, statementTimeoutMs: 1_000 })
  stores.push(store)
  return store
}

/** A port that accepts connections and closes them at once: a database that drops the line. */
async function hangUpPort(): Promise<number> {
  const server = createServer((socket) => socket.destroy())
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('PostgreSQL store when the database is unreachable', () => {
  it('answers TemporarilyUnavailable (503) when nothing listens', async () => {
    const store = await storeAt('postgres://postgres@127.0.0.1:1/test')
    const failure = await store.getClient('web-app').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TemporarilyUnavailable)
    expect(failure).toMatchObject({ status: 503, code: 'temporarily_unavailable' })
    expect((failure as Error).message).not.toContain('127.0.0.1')
    expect((failure as Error & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED')
  })

  it('answers TemporarilyUnavailable when the connection is dropped, in a transaction too', async () => {
    const store = await storeAt(`postgres://postgres@127.0.0.1:${await hangUpPort()}/test`)
    await expect(store.getClient('web-app')).rejects.toBeInstanceOf(TemporarilyUnavailable)
    await expect(store.sweepExpired(Date.now())).rejects.toBeInstanceOf(TemporarilyUnavailable)
  })
})

describe('which database failures count as the store being unavailable', () => {
  const failure = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code })
  it.each([
    ['a reset connection', failure('read ECONNRESET', 'ECONNRESET')],
    ['an unknown host', failure('getaddrinfo ENOTFOUND db', 'ENOTFOUND')],
    ['SQLSTATE 08006 connection_failure', failure('connection failure', '08006')],
    ['SQLSTATE 57P01 admin_shutdown', failure('terminating connection', '57P01')],
    ['SQLSTATE 57P03 cannot_connect_now', failure('the database system is starting up', '57P03')],
    ['SQLSTATE 53300 too_many_connections', failure('too many clients', '53300')],
    [
      'SQLSTATE 57014 statement timeout',
      failure('canceling statement due to statement timeout', '57014'),
    ],
    ['a pool that cannot connect in time', failure('timeout exceeded when trying to connect')],
    ['a query that got no answer in time', failure('Query read timeout')],
  ])('%s', (_, error) => {
    const mapped = asUnavailable(error)
    expect(mapped).toBeInstanceOf(TemporarilyUnavailable)
    expect((mapped as Error).cause).toBe(error)
  })

  it.each([
    ['a unique violation', failure('duplicate key value', '23505')],
    ['a syntax error', failure('syntax error', '42601')],
    ['a non-error value', 'boom'],
  ])('leaves %s as it is', (_, error) => {
    expect(asUnavailable(error)).toBe(error)
  })
})
