import type { ServerContext } from '../../../context.js'
import { UnauthorizedClient } from '../../../errors.js'
import { issueAccessToken } from '../../../tokens/access-token.js'
import { grantScopes, resolveAudience } from '../../../tokens/scope.js'
import type { GrantHandler } from './grant.js'

/**
 * RFC 6749 §4.4: a confidential client gets a token for itself. `sub` is the client id, and no
 * user claims are released (there is no user). No refresh token (RFC 6749 §4.4.3).
 */
export const clientCredentialsGrant: GrantHandler = async function clientCredentialsGrant(
  ctx: ServerContext,
  grant,
) {
  const { client, form, request } = grant
  if (client.tokenEndpointAuthMethod === 'none') {
    throw new UnauthorizedClient(
      'public clients cannot use client_credentials',
      'grant.public_client',
    )
  }
  const scopes = grantScopes(form.get('scope'), client, ctx.knownScopes)
  const audience = resolveAudience(grant.resources, client)
  const issued = await issueAccessToken(ctx, {
    client,
    subject: client.clientId,
    scopes,
    audience,
    claims: {},
  })
  ctx.audit.emit({
    type: 'token.issued',
    outcome: 'success',
    tokenId: issued.record.jti,
    clientId: client.clientId,
    subject: client.clientId,
    requestId: request.requestId,
    ip: request.ip,
    details: {
      grantType: 'client_credentials',
      format: client.tokenFormat,
      scope: issued.record.scope,
    },
  })
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: issued.record.scope,
  }
}
