import type { ServerContext } from '../../../context.js'
import { InvalidRequest, InvalidRequestUri } from '../../../errors.js'
import type { ClientRecord } from '../../../store/store.js'
import { isWellFormedOpaque } from '../../../tokens/opaque.js'
import { tokenHash } from '../../../tokens/token-hash.js'
import { type Parameters, REQUEST_URI_PREFIX, UnsafeAuthorizationError } from '../request.js'

/**
 * checkPushedRequest (RFC 9126 §4): a `request_uri` replaces the parameters with the pushed
 * ones (single use, same client, not expired); clients that must push are refused without one.
 */
export async function checkPushedRequest(
  ctx: ServerContext,
  client: ClientRecord,
  parameters: Parameters,
): Promise<Parameters> {
  const requestUri = parameters.get('request_uri')
  if (requestUri === undefined) {
    if (client.requirePushedAuthorizationRequests) {
      throw new UnsafeAuthorizationError(
        new InvalidRequest(
          'this client must use pushed authorization requests',
          'authorize.par_required',
        ),
      )
    }
    return parameters
  }
  const value = requestUri.startsWith(REQUEST_URI_PREFIX)
    ? requestUri.slice(REQUEST_URI_PREFIX.length)
    : ''
  const pushed = isWellFormedOpaque(value, 'request_uri')
    ? await ctx.store.takePushedRequest(tokenHash(value), ctx.now())
    : null
  if (pushed === null || pushed.clientId !== client.clientId) {
    throw new UnsafeAuthorizationError(
      new InvalidRequestUri(
        'the request_uri is unknown, expired or already used',
        'authorize.bad_request_uri',
      ),
    )
  }
  return new Map(Object.entries(pushed.parameters))
}
