import { authenticateClient } from '../../client-auth/authenticate-client.js'
import type { RequestContext, ServerContext } from '../../context.js'
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../errors.js'
import { type FormParameters, readForm } from '../../http/form.js'
import { sendJson } from '../../http/respond.js'
import type { ClientRecord, GrantType } from '../../store/store.js'
import { clientCredentialsGrant } from './grants/client-credentials.js'
import type { GrantHandler } from './grants/grant.js'

const REPEATABLE = new Set(['resource'])

/**
 * POST /token (RFC 6749 §3.2), as an ordered list of named checks:
 * readTokenForm → checkGrantTypeSupported → authenticateClient → checkGrantTypeAllowed → grant.
 */
export function createTokenEndpoint(
  ctx: ServerContext,
  grants: Partial<Record<GrantType, GrantHandler>> = {},
): (rc: RequestContext) => Promise<void> {
  const handlers: Partial<Record<GrantType, GrantHandler>> = {
    client_credentials: clientCredentialsGrant,
    ...grants,
  }

  function checkGrantTypeSupported(form: FormParameters): GrantType {
    const grantType = form.get('grant_type')
    if (grantType === undefined) {
      throw new InvalidRequest('grant_type is required', 'grant.missing')
    }
    if (!Object.hasOwn(handlers, grantType)) {
      throw new UnsupportedGrantType('unsupported grant_type', 'grant.unsupported')
    }
    return grantType as GrantType
  }

  function checkGrantTypeAllowed(client: ClientRecord, grantType: GrantType): void {
    if (!client.grantTypes.includes(grantType)) {
      throw new UnauthorizedClient(
        'the client may not use this grant type',
        'grant.not_allowed_for_client',
      )
    }
  }

  return async function tokenEndpoint(rc) {
    const { single: form, repeated } = await readForm(rc.req, ctx.config.limits, REPEATABLE)
    const grantType = checkGrantTypeSupported(form)
    const { client } = await authenticateClient(
      ctx,
      { authorization: rc.req.headers.authorization, ip: rc.ip, requestId: rc.requestId },
      form,
      ctx.urls.token,
    )
    checkGrantTypeAllowed(client, grantType)
    const handler = handlers[grantType] as GrantHandler
    const response = await handler(ctx, {
      client,
      form,
      resources: repeated.get('resource'),
      request: { requestId: rc.requestId, ip: rc.ip },
    })
    sendJson(rc.res, 200, response)
  }
}
