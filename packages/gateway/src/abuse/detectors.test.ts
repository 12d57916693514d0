import { type AuditEvent, createAuditBus } from '@gatehouse/audit'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createGatewayMetrics } from '../metrics.js'
import { createTemporaryBlocks } from '../pipeline/block-list.js'
import type { ObservedRequest } from '../pipeline/observe.js'
import type { Outcome } from '../pipeline/types.js'
import { createAbuseDetectors } from './detectors.js'

function setUp(abuse: Parameters<typeof createAbuseDetectors>[0]) {
  let clock = 1_000_000
  const audit = createAuditBus()
  const events: AuditEvent[] = []
  audit.subscribe({ write: (event) => void events.push(event) })
  const blocks = createTemporaryBlocks(() => clock)
  const metrics = createGatewayMetrics({ defaultMetrics: false })
  const listeners = createAbuseDetectors(abuse, {
    logger: pino({ level: 'silent' }),
    metrics,
    audit,
    blocks,
    now: () => clock,
  })
  const feed = (outcome: Partial<Outcome>, extra: Partial<ObservedRequest> = {}) => {
    const request: ObservedRequest = {
      requestId: 'r',
      method: 'GET',
      clientIp: '198.51.100.7',
      headerNames: ['host'],
      durationMs: 1,
      outcome: { status: 200, reason: 'forwarded', routeId: 'orders', ...outcome },
      ...extra,
    }
    for (const listener of listeners) listener(request)
  }
  const tick = (ms: number) => {
    clock += ms
  }
  return { feed, events, blocks, metrics, tick }
}

const detector = { enabled: true, windowSeconds: 60, threshold: 5, blockSeconds: 120 }

describe('abuse detectors', () => {
  it('flags a client walking through object ids that are mostly refused, and blocks it for a while', async () => {
    const { feed, events, blocks, tick } = setUp({ enumeration: detector })
    for (let id = 1; id <= 5; id++)
      feed({ path: `/orders/${id}`, status: id === 1 ? 200 : 404, clientId: 'prober' })
    expect(events.map((event) => event.type)).toEqual(['abuse.detected'])
    expect(events[0]).toMatchObject({ reason: 'abuse.enumeration', clientId: 'prober' })
    expect(events[0]?.details).toMatchObject({ distinctObjects: 5, refusals: 4, blockSeconds: 120 })
    expect(blocks.isBlocked('client', 'prober')).toBe(true)
    tick(121_000)
    expect(blocks.isBlocked('client', 'prober')).toBe(false)
  })

  it('does not flag a client reading many objects it owns (mostly 200)', () => {
    const { feed, events } = setUp({ enumeration: detector })
    for (let id = 1; id <= 20; id++)
      feed({ path: `/orders/${id}`, status: 200, clientId: 'reader' })
    expect(events).toEqual([])
  })

  it('forgets refusals older than the window', () => {
    const { feed, events, tick } = setUp({ enumeration: detector })
    for (let id = 1; id <= 4; id++) feed({ path: `/orders/${id}`, status: 404, clientId: 'slow' })
    tick(61_000)
    for (let id = 5; id <= 8; id++) feed({ path: `/orders/${id}`, status: 404, clientId: 'slow' })
    expect(events).toEqual([])
  })

  it('flags many client ids from one address', () => {
    const { feed, events, blocks } = setUp({ clientsPerIp: { ...detector, threshold: 3 } })
    for (const clientId of ['a', 'b', 'c']) feed({ clientId })
    expect(events[0]).toMatchObject({ reason: 'abuse.clients_per_ip', ip: '198.51.100.7' })
    expect(blocks.isBlocked('ip', '198.51.100.7')).toBe(true)
  })

  it('flags many client ids used by one user, and blocks the user', () => {
    const { feed, events, blocks } = setUp({ clientsPerSubject: { ...detector, threshold: 3 } })
    for (const clientId of ['a', 'b']) feed({ clientId, subject: 'eve' })
    feed({ clientId: 'c', subject: 'someone-else' })
    expect(events).toEqual([])
    feed({ clientId: 'c', subject: 'eve' })
    expect(events[0]).toMatchObject({ reason: 'abuse.clients_per_subject', subject: 'eve' })
    expect(blocks.isBlocked('subject', 'eve')).toBe(true)
  })

  it('flags repeated requests with query parameters outside the route list', () => {
    const { feed, events } = setUp({ unexpectedParams: { ...detector, threshold: 2 } })
    feed({ clientId: 'p' })
    feed({ clientId: 'p', unexpectedParams: true })
    expect(events).toEqual([])
    feed({ clientId: 'p', unexpectedParams: true })
    expect(events[0]).toMatchObject({ reason: 'abuse.unexpected_params', clientId: 'p' })
  })

  it('flags repeated requests with headers outside the allow-list, but not allowed ones', async () => {
    const { feed, events, metrics } = setUp({
      unexpectedHeaders: { ...detector, threshold: 3, blockSeconds: 0, allowHeaders: ['X-Tenant'] },
    })
    for (let i = 0; i < 5; i++) feed({ clientId: 'ok' }, { headerNames: ['host', 'x-tenant'] })
    expect(events).toEqual([])
    for (let i = 0; i < 3; i++)
      feed({ clientId: 'probe' }, { headerNames: ['host', 'x-original-url'] })
    expect(events[0]).toMatchObject({ reason: 'abuse.unexpected_headers', clientId: 'probe' })
    expect(
      await metrics.registry.getSingleMetricAsString('gatehouse_gateway_abuse_alerts_total'),
    ).toMatch(/detector="unexpected_headers"\} 1/)
  })
})
