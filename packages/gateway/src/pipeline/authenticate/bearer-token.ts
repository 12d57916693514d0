import type { IncomingHttpHeaders } from 'node:http'
import { InvalidBearerRequest, MissingToken } from '@gatehouse/jwt/errors'

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * Reads the bearer token from the one `Authorization` header — never from the query string or the
 * body (RFC 6750 §2.2/2.3 are not accepted: they leak tokens into logs and caches).
 */
export function readBearerToken(headers: IncomingHttpHeaders): string {
  const header = headers.authorization
  if (header === undefined || header === '') throw new MissingToken()
  // node joins repeated Authorization headers with ", " only when configured to; we keep the
  // default (first wins), so the server layer rejects duplicates before we get here.
  const found = BEARER.exec(header)
  if (found === null) {
    if (!/^Bearer(\s|$)/i.test(header)) throw new MissingToken()
    throw new InvalidBearerRequest(
      'bearer.malformed_header',
      'the Authorization header is malformed',
    )
  }
  return found[1] as string
}
