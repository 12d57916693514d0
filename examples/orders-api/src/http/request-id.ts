import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The request id for logs and audit events: the gateway's `X-Request-Id` (so the API's events
 * join the gateway's), else a fresh one. The header is trusted because only the gateway can
 * connect (mTLS); a malformed value is replaced rather than logged.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id']
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID()
}
