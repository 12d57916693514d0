import { describe, expect, it } from 'vitest'
import { createAuditBus, createAuditEvent } from './index.js'

describe('audit events', () => {
  it('stamps an id and time and keeps the join keys', () => {
    const event = createAuditEvent(
      {
        type: 'token.issued',
        component: 'authorization-server',
        outcome: 'success',
        tokenId: 'jti-1',
        requestId: 'req-1',
        clientId: 'c',
      },
      () => Date.parse('2026-01-01T00:00:00Z'),
    )
    expect(event).toMatchObject({
      type: 'token.issued',
      tokenId: 'jti-1',
      requestId: 'req-1',
      time: '2026-01-01T00:00:00.000Z',
    })
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(Object.isFrozen(event)).toBe(true)
  })

  it('redacts values that look like a JWT or a long credential, even when passed by mistake', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    const event = createAuditEvent({
      type: 'access.denied',
      component: 'gateway',
      outcome: 'denied',
      subject: jwt,
      details: { header: jwt, opaque: 'x'.repeat(120), count: 3 },
    })
    expect(event.subject).toBe('[redacted]')
    expect(event.details).toEqual({ header: '[redacted]', opaque: '[redacted]', count: 3 })
  })

  it('refuses an unknown event type', () => {
    expect(() =>
      createAuditEvent({ type: 'nope' as never, component: 'api', outcome: 'success' }),
    ).toThrow(TypeError)
  })

  it('fans out to sinks, survives a failing sink, and lets a test await the next event', async () => {
    const errors: unknown[] = []
    const bus = createAuditBus({ onSinkError: (error) => errors.push(error) })
    const seen: string[] = []
    bus.subscribe({ write: (event) => void seen.push(event.type) })
    bus.subscribe({
      write: () => {
        throw new Error('sink down')
      },
    })
    const next = bus.next((event) => event.type === 'token.revoked')
    bus.emit({ type: 'token.issued', component: 'authorization-server', outcome: 'success' })
    bus.emit({
      type: 'token.revoked',
      component: 'authorization-server',
      outcome: 'success',
      tokenId: 'j',
    })
    await expect(next).resolves.toMatchObject({ tokenId: 'j' })
    expect(seen).toEqual(['token.issued', 'token.revoked'])
    expect(errors).toHaveLength(2)
  })
})
