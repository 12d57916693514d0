import { InvalidRequest } from '../../../errors.js'
import type { ClientRecord } from '../../../store/store.js'
import { type Parameters, UnsafeAuthorizationError } from '../request.js'

/**
 * checkRedirectUri: exact string match against the registered list (RFC 9700 §4.1.3: no
 * wildcards, no prefix, no case folding, no normalisation). Required even with one registered.
 */
export function checkRedirectUri(client: ClientRecord, parameters: Parameters): string {
  const redirectUri = parameters.get('redirect_uri')
  if (redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
    throw new UnsafeAuthorizationError(
      new InvalidRequest(
        'the redirect_uri is missing or not registered for this client',
        'authorize.bad_redirect_uri',
      ),
    )
  }
  return redirectUri
}
