import type { ServerResponse } from 'node:http'
import { GatehouseError } from '@gatehouse/jwt/errors'
import {
  InsufficientScope,
  InvalidClient,
  InvalidToken,
  MethodNotAllowed,
  OAuthError,
  TemporarilyUnavailable,
} from '../errors.js'

// RFC 6749 §5.1: token responses (and anything carrying credentials) are never cached.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/** Merges header sets; a header given as '' is dropped (how a cacheable response unsets Pragma). */
function mergeHeaders(...sets: Record<string, string | number>[]): Record<string, string | number> {
  const merged: Record<string, string | number> = {}
  for (const set of sets) Object.assign(merged, set)
  for (const [name, value] of Object.entries(merged)) if (value === '') delete merged[name]
  return merged
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body)
  res.writeHead(
    status,
    mergeHeaders(
      {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(payload),
      },
      NO_STORE,
      headers,
    ),
  )
  res.end(payload)
}

export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(
    status,
    mergeHeaders(
      { 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
      NO_STORE,
      headers,
    ),
  )
  res.end(body)
}

/**
 * The one renderer of OAuth errors (RFC 6749 §5.2). It never reads `detail`, `cause` or `stack`;
 * anything not exposed becomes a generic `server_error`.
 */
export function sendOAuthError(res: ServerResponse, error: unknown, realm: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (!(error instanceof GatehouseError) || !error.expose) {
    sendJson(res, 500, { error: 'server_error', error_description: 'internal error' })
    return
  }
  const headers: Record<string, string> = {}
  if (error instanceof InvalidClient && error.challengeBasic) {
    headers['www-authenticate'] = `Basic realm="${realm}"`
  }
  if (error instanceof InsufficientScope) {
    headers['www-authenticate'] =
      `Bearer realm="${realm}", error="insufficient_scope", error_description="${error.message}"`
  }
  if (error instanceof InvalidToken) {
    headers['www-authenticate'] =
      `Bearer realm="${realm}", error="invalid_token", error_description="${error.message}"`
  }
  if (error instanceof MethodNotAllowed) headers.allow = error.allow.join(', ')
  if (error instanceof TemporarilyUnavailable)
    headers['retry-after'] = String(error.retryAfterSeconds)
  const code = error instanceof OAuthError ? error.code : 'invalid_request'
  sendJson(res, error.status, { error: code, error_description: error.message }, headers)
}
