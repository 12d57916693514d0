import type { ServerResponse } from 'node:http'
import { GatehouseError } from '@gatehouse/jwt/errors'
import { TemporarilyUnavailable } from '../errors.js'
import { sendOAuthError } from '../http/respond.js'
import { sendPage } from './html.js'

/**
 * The answer to a browser (sign-in, consent, logout) when its request failed outside the
 * endpoint's own handling: a person reads it, so it is a page rather than the JSON of RFC 6749
 * §5.2. The store being unreachable is a 503 with `Retry-After` that says to try again shortly;
 * anything not meant for the client is a generic 500. Errors the endpoints expose on purpose
 * (405 with `Allow`, …) keep their OAuth form. Like sendOAuthError, this never reads `detail`,
 * `cause` or `stack`.
 */
export function sendFailurePage(res: ServerResponse, error: unknown, realm: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (error instanceof TemporarilyUnavailable) {
    sendPage(
      res,
      503,
      'Sign-in is temporarily unavailable',
      '<p>The sign-in service cannot do its work right now. Wait a few seconds, then try again.</p>' +
        '<p>Error code: <code>temporarily_unavailable</code>.</p>',
      { 'retry-after': String(error.retryAfterSeconds) },
    )
    return
  }
  if (error instanceof GatehouseError && error.expose) {
    sendOAuthError(res, error, realm)
    return
  }
  sendPage(
    res,
    500,
    'Something went wrong',
    '<p>The sign-in service could not handle this request. Go back to the application and try again.</p>' +
      '<p>Error code: <code>server_error</code>.</p>',
  )
}
