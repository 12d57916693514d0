import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OrdersApiFixture, startOrdersApi } from '../test-support/orders-api-fixture.js'

let fx: OrdersApiFixture

beforeAll(async () => {
  fx = await startOrdersApi()
})
afterAll(async () => {
  await fx?.close()
})

describe('mTLS: only the gateway may connect', () => {
  it('answers the gateway, whose certificate is issued by the client CA with an allowed CN', async () => {
    const res = await fx.call('/orders', { token: await fx.sign() })
    expect(res.status).toBe(200)
  })

  it('refuses the TLS handshake of a client without a certificate', async () => {
    // TLS 1.3: the server's alert (certificate_required) reaches the client on its first read.
    await expect(fx.call('/orders', { client: null, token: await fx.sign() })).rejects.toThrow(
      /certificate|socket hang up|ECONNRESET/i,
    )
  })

  it('refuses the TLS handshake of a client certificate issued by another CA, even with the gateway CN', async () => {
    await expect(
      fx.call('/orders', { client: fx.clients.foreignCa, token: await fx.sign() }),
    ).rejects.toThrow(/unknown ca|certificate|socket hang up|ECONNRESET/i)
  })

  it('answers 403 problem+json to a certificate of the right CA whose subject is not allowed, and audits it', async () => {
    const res = await fx.call('/orders/ord-000001', {
      client: fx.clients.otherService,
      token: await fx.sign(),
      headers: { 'x-request-id': 'req-mtls-1' },
    })
    expect(res.status).toBe(403)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'this client certificate may not call this API',
      error: 'access_denied',
    })
    expect(res.text).not.toContain('alice')
    expect(fx.auditEvents.find((event) => event.requestId === 'req-mtls-1')).toMatchObject({
      type: 'access.denied',
      component: 'api',
      outcome: 'denied',
      reason: 'mtls.subject_not_allowed',
      details: { clientCertificateCn: 'reporting-service' },
    })
  })

  it('refuses the wrong subject before reading the body or the token', async () => {
    const res = await fx.call('/orders', {
      method: 'POST',
      client: fx.clients.otherService,
      body: { items: [{ sku: 'BOOK-0042', quantity: 1 }] },
    })
    expect(res.status).toBe(403)
    const list = await fx.call('/orders', {
      token: await fx.sign({ scope: 'orders:read' }),
    })
    expect(list.json<{ orders: unknown[] }>().orders).toHaveLength(2)
  })

  it('refuses the wrong subject on unknown routes too', async () => {
    const res = await fx.call('/nothing-here', { client: fx.clients.otherService })
    expect(res.status).toBe(403)
  })
})
