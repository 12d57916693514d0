import { BearerError, GatehouseError, InsufficientScope } from '@gatehouse/jwt/errors'
import { GatewayError } from '../errors.js'

export interface RenderedError {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  readonly reason: string
}

/**
 * The one renderer of the gateway. Token failures: RFC 6750 `WWW-Authenticate: Bearer` (with the
 * RFC 9728 `resource_metadata` pointer on 401) and a problem+json body; everything else: RFC 9457
 * problem+json. Never reads `detail`, `cause` or `stack`: unknown errors become a generic 500.
 */
export function renderError(
  error: unknown,
  requestId: string,
  resourceMetadataUrl: string | undefined,
): RenderedError {
  if (!(error instanceof GatehouseError) || !error.expose) {
    return problem(
      500,
      'internal_error',
      'the gateway could not handle this request',
      requestId,
      {},
      'internal',
    )
  }
  const reason = (error as { reason?: unknown }).reason
  const reasonCode = typeof reason === 'string' ? reason : error.code
  if (error instanceof BearerError) {
    const params = ['realm="gatehouse"']
    // RFC 6750 §3.1: with no token at all, the challenge carries no error code.
    if (error.code !== 'missing_token') {
      params.push(`error="${error.code}"`, `error_description="${quoteSafe(error.message)}"`)
    }
    if (error instanceof InsufficientScope) params.push(`scope="${quoteSafe(error.requiredScope)}"`)
    if (error.status === 401 && resourceMetadataUrl !== undefined) {
      params.push(`resource_metadata="${resourceMetadataUrl}"`)
    }
    const code = error.code === 'missing_token' ? 'invalid_token' : error.code
    return problem(
      error.status,
      code,
      error.message,
      requestId,
      {
        'www-authenticate': `Bearer ${params.join(', ')}`,
      },
      reasonCode,
    )
  }
  const headers: Record<string, string> = error instanceof GatewayError ? { ...error.headers } : {}
  // A 503 is an outage, not a verdict: tell clients when to come back (the JWKS one included).
  if (error.status === 503 && headers['retry-after'] === undefined) headers['retry-after'] = '5'
  return problem(error.status, error.code, error.message, requestId, headers, reasonCode)
}

function problem(
  status: number,
  code: string,
  message: string,
  requestId: string,
  headers: Record<string, string>,
  reason: string,
): RenderedError {
  const body = JSON.stringify({
    type: 'about:blank',
    title: code,
    status,
    detail: message,
    request_id: requestId,
  })
  return {
    status,
    reason,
    body,
    headers: {
      ...headers,
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(body)),
    },
  }
}

function quoteSafe(text: string): string {
  return text.replace(/["\\]/g, '')
}
