import { createJwtValidator } from '@gatehouse/jwt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RevocationEvent } from '../events/revocation-bus.js'
import {
  basic,
  ORDERS_API,
  startTestServer,
  TEST_ISSUER,
  type TestServer,
} from '../test-support/test-server.js'
import { tokenHash } from './token-hash.js'

let as: TestServer
let secret: string
beforeEach(async () => {
  as = await startTestServer()
  secret = (await as.createClient({ clientId: 'mobile', tokenFormat: 'split' })) as string
})
afterEach(async () => {
  await as.close()
})

async function issue(): Promise<string> {
  const response = await as.post(
    '/token',
    { grant_type: 'client_credentials' },
    { authorization: basic('mobile', secret) },
  )
  return ((await response.json()) as { access_token: string }).access_token
}

describe('split tokens', () => {
  it('gives the client only the signature and stores header.payload under its hash for the gateway', async () => {
    const signature = await issue()
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/)
    const head = await as.server.splitTokens.get(tokenHash(signature))
    expect(head?.split('.')).toHaveLength(2)
    const validator = createJwtValidator({
      issuer: TEST_ISSUER,
      audience: ORDERS_API,
      jwks: await as.server.context.keys.jwks(),
      now: as.clock.now,
    })
    const verified = await validator.validate(`${head}.${signature}`)
    expect(verified.claims).toMatchObject({ client_id: 'mobile', scope: 'orders:read' })
  })

  it('introspects and revokes by the signature, announcing the hash the gateway keys by', async () => {
    const signature = await issue()
    const events: RevocationEvent[] = []
    as.server.events.revocations.subscribe((event) => events.push(event))
    const introspect = async () =>
      (await (
        await as.post(
          '/introspect',
          { token: signature },
          { authorization: basic('mobile', secret) },
        )
      ).json()) as { active: boolean }
    expect(await introspect()).toMatchObject({ active: true, client_id: 'mobile' })
    await as.post('/revoke', { token: signature }, { authorization: basic('mobile', secret) })
    expect(events[0]).toMatchObject({ tokenHash: tokenHash(signature), tokenId: events[0]?.jti })
    expect(await introspect()).toEqual({ active: false })
  })

  it('expires entries of the in-process store with the token', async () => {
    const signature = await issue()
    as.clock.advance(601_000)
    await expect(as.server.splitTokens.get(tokenHash(signature))).resolves.toBeUndefined()
  })
})
