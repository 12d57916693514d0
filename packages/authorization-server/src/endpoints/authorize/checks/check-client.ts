import type { ServerContext } from '../../../context.js'
import { InvalidRequest, UnauthorizedClient } from '../../../errors.js'
import type { ClientRecord } from '../../../store/store.js'
import { type Parameters, UnsafeAuthorizationError } from '../request.js'

/** checkClient: the client exists and may use the code flow. Unsafe to redirect otherwise. */
export async function checkClient(
  ctx: ServerContext,
  parameters: Parameters,
): Promise<ClientRecord> {
  const clientId = parameters.get('client_id')
  if (clientId === undefined) {
    throw new UnsafeAuthorizationError(
      new InvalidRequest('client_id is required', 'authorize.missing_client'),
    )
  }
  const client = clientId.length > 256 ? null : await ctx.store.getClient(clientId)
  if (client === null) {
    throw new UnsafeAuthorizationError(
      new InvalidRequest('unknown client', 'authorize.unknown_client'),
    )
  }
  if (!client.grantTypes.includes('authorization_code')) {
    throw new UnsafeAuthorizationError(
      new UnauthorizedClient(
        'the client may not use the authorization code flow',
        'authorize.grant_not_allowed',
      ),
    )
  }
  return client
}
