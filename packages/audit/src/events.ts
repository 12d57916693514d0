import { timeOrderedId } from './ids.js'

/**
 * The platform's one audit-event schema. The authorization server, the gateway, the token
 * handler and the APIs all emit these, so that an issuance, a gateway decision and an API decision
 * can be joined by the token's `jti` (`tokenId`) and the request id: one trail across the platform.
 *
 * Never put a token, a secret, a password or a cookie in an event: `tokenId` is the `jti`, and
 * where an opaque token must be named, `details.tokenHash` holds a short SHA-256 prefix.
 */
export const AUDIT_EVENT_TYPES = [
  // authorization server
  'token.issued',
  'token.refreshed',
  'token.revoked',
  'token.exchanged',
  'login.succeeded',
  'login.failed',
  'login.locked',
  'mfa.failed',
  'consent.granted',
  'logout',
  'code.replayed',
  'refresh.reuse_detected',
  'client.auth_failed',
  'key.rotated',
  'admin.changed',
  // gateway, token handler and APIs
  'access.allowed',
  'access.denied',
  'rate.limited',
  'abuse.detected',
  'client.blocked',
  'session.started',
  'session.ended',
] as const
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]

export type AuditComponent = 'authorization-server' | 'gateway' | 'token-handler' | 'api'
export type AuditOutcome = 'success' | 'failure' | 'denied'
/** Flat, small, and never secret: strings, numbers, booleans or null only. */
export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>

export interface AuditEvent {
  readonly id: string
  /** ISO 8601, UTC. */
  readonly time: string
  readonly type: AuditEventType
  readonly component: AuditComponent
  readonly outcome: AuditOutcome
  /** The request id the gateway assigned (X-Request-Id), carried by every component. */
  readonly requestId?: string
  /** The token's `jti`: joins issuance, gateway decisions and API decisions. */
  readonly tokenId?: string
  readonly clientId?: string
  readonly subject?: string
  readonly ip?: string
  /** A stable reason code, e.g. `jwt.expired`, `refresh.reuse`, `phantom.inactive`. */
  readonly reason?: string
  readonly details?: AuditDetails
}

export type AuditEventInput = Omit<AuditEvent, 'id' | 'time'> & { readonly time?: string }

const MAX_DETAIL_STRING = 256
// A JWT or a long opaque credential must never reach the trail, even by mistake.
const LOOKS_LIKE_TOKEN = /^(eyJ[\w-]{8,}\.[\w-]+\.[\w-]*|[A-Za-z0-9_~+/=.-]{100,})$/

/** Builds an event with a fresh id and time; drops detail values that look like credentials. */
export function createAuditEvent(input: AuditEventInput, now: () => number = Date.now): AuditEvent {
  if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(input.type)) {
    throw new TypeError(`unknown audit event type ${String(input.type)}`)
  }
  const at = now()
  const time = input.time ?? new Date(at).toISOString()
  const given = input.time === undefined ? at : Date.parse(input.time)
  const event: { -readonly [K in keyof AuditEvent]: AuditEvent[K] } = {
    // Time-ordered, so stores append to their id index (see ids.ts).
    id: timeOrderedId(Number.isFinite(given) ? given : at),
    time,
    type: input.type,
    component: input.component,
    outcome: input.outcome,
  }
  for (const field of ['requestId', 'tokenId', 'clientId', 'subject', 'ip', 'reason'] as const) {
    const value = input[field]
    if (value !== undefined) event[field] = safeString(value)
  }
  if (input.details !== undefined) {
    const details: Record<string, string | number | boolean | null> = {}
    for (const [name, value] of Object.entries(input.details)) {
      details[name] = typeof value === 'string' ? safeString(value) : value
    }
    event.details = details
  }
  return Object.freeze(event)
}

function safeString(value: string): string {
  if (LOOKS_LIKE_TOKEN.test(value)) return '[redacted]'
  return value.length > MAX_DETAIL_STRING ? `${value.slice(0, MAX_DETAIL_STRING)}…` : value
}
