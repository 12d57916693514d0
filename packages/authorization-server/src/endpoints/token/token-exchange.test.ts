import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BILLING_API,
  basic,
  ORDERS_API,
  startTestServer,
  type TestServer,
} from '../../test-support/test-server.js'

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'
let as: TestServer
let frontSecret: string
let exchangerSecret: string

beforeEach(async () => {
  as = await startTestServer()
  frontSecret = (await as.createClient({
    clientId: 'front',
    scopes: ['orders:read', 'orders:write'],
    audiences: [ORDERS_API],
  })) as string
  exchangerSecret = (await as.createClient({
    clientId: 'orders-service',
    tokenFormat: 'jwt',
    grantTypes: [EXCHANGE],
    scopes: ['orders:read', 'billing:read'],
    audiences: [BILLING_API],
  })) as string
})
afterEach(async () => {
  await as.close()
})

async function subjectToken(): Promise<string> {
  const response = await as.post(
    '/token',
    { grant_type: 'client_credentials' },
    { authorization: basic('front', frontSecret) },
  )
  return ((await response.json()) as { access_token: string }).access_token
}

function exchange(form: Record<string, string>) {
  return as.post(
    '/token',
    { grant_type: EXCHANGE, subject_token_type: ACCESS, ...form },
    { authorization: basic('orders-service', exchangerSecret) },
  )
}

describe('token exchange (RFC 8693)', () => {
  it('trades a token for a down-scoped one for another audience, with act and no longer life', async () => {
    const subject = await subjectToken()
    as.clock.advance(500_000)
    const response = await exchange({ subject_token: subject, resource: BILLING_API })
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      issued_token_type: ACCESS,
      token_type: 'Bearer',
      scope: 'orders:read',
    })
    expect(body.expires_in).toBeLessThanOrEqual(100)
    const claims = decodeJwt(String(body.access_token))
    expect(claims).toMatchObject({
      sub: 'front',
      aud: BILLING_API,
      client_id: 'orders-service',
      act: { sub: 'orders-service' },
    })
  })

  it('refuses scope escalation beyond the subject token', async () => {
    const subject = await subjectToken()
    const response = await exchange({
      subject_token: subject,
      resource: BILLING_API,
      scope: 'billing:read',
    })
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' })
  })

  it('refuses an audience not registered for the exchanging client', async () => {
    const subject = await subjectToken()
    expect(
      await (await exchange({ subject_token: subject, resource: ORDERS_API })).json(),
    ).toMatchObject({ error: 'invalid_target' })
    expect(await (await exchange({ subject_token: subject })).json()).toMatchObject({
      error: 'invalid_target',
    })
  })

  it('refuses an inactive subject token, actor tokens and other token types', async () => {
    const subject = await subjectToken()
    await as.post('/revoke', { token: subject }, { authorization: basic('front', frontSecret) })
    expect(
      await (await exchange({ subject_token: subject, resource: BILLING_API })).json(),
    ).toMatchObject({ error: 'invalid_request' })
    const fresh = await subjectToken()
    expect(
      await (
        await exchange({
          subject_token: fresh,
          resource: BILLING_API,
          actor_token: fresh,
          actor_token_type: ACCESS,
        })
      ).json(),
    ).toMatchObject({ error: 'invalid_request' })
    expect(
      await (
        await exchange({
          subject_token: fresh,
          resource: BILLING_API,
          subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        })
      ).json(),
    ).toMatchObject({ error: 'invalid_request' })
  })

  it('is refused to clients not registered for it', async () => {
    const subject = await subjectToken()
    const response = await as.post(
      '/token',
      {
        grant_type: EXCHANGE,
        subject_token: subject,
        subject_token_type: ACCESS,
        resource: ORDERS_API,
      },
      { authorization: basic('front', frontSecret) },
    )
    expect(await response.json()).toMatchObject({ error: 'unauthorized_client' })
  })
})
