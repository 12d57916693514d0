import type { ServerResponse } from 'node:http'
import { GatehouseError } from '@gatehouse/jwt/errors'
import { MethodNotAllowed, TokenHandlerError } from '../errors.js'

/**
 * The one renderer of the token handler. Success: JSON. Failure: RFC 9457 problem+json with the
 * stable `code` (also the `title`, as the gateway renders it). Never reads `detail`, `cause` or
 * `stack`; anything that is not an exposed Gatehouse error becomes a generic 500.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(payload)),
  })
  res.end(payload)
}

export interface RenderedProblem {
  readonly status: number
  readonly code: string
  readonly reason: string
}

export function sendProblem(
  res: ServerResponse,
  error: unknown,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): RenderedProblem {
  const known = error instanceof GatehouseError && error.expose
  const status = known ? error.status : 500
  const code = known ? error.code : 'internal_error'
  const message = known ? error.message : 'internal error'
  const reason = error instanceof TokenHandlerError ? error.reason : 'internal'
  const extra: Record<string, string | readonly string[]> = { ...headers }
  if (error instanceof MethodNotAllowed) extra.allow = error.allow
  const body = JSON.stringify({ type: 'about:blank', title: code, status, detail: message, code })
  if (!res.headersSent) {
    res.writeHead(status, {
      ...extra,
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(body)),
    })
  }
  res.end(body)
  return { status, code, reason }
}
