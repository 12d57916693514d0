import { InvalidRequest, InvalidScope, InvalidTarget } from '../../../errors.js'
import { issueAccessToken } from '../../../tokens/access-token.js'
import { releaseClaims } from '../../../tokens/claims.js'
import { findToken, isActive } from '../../../tokens/lookup.js'
import { parseScope, resolveAudience } from '../../../tokens/scope.js'
import type { GrantHandler } from './grant.js'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

/**
 * RFC 8693 token exchange, for down-scoping: an internal service trades an access token it
 * received for one with a subset of its scopes, for another audience registered for the
 * exchanging client. The new token has the same subject, an `act` claim naming the exchanging
 * client (§4.1), and never outlives the subject token. Actor tokens are not supported.
 */
export const tokenExchangeGrant: GrantHandler = async function tokenExchangeGrant(ctx, grant) {
  const { client, form, request } = grant
  const subjectToken = form.get('subject_token')
  if (subjectToken === undefined || form.get('subject_token_type') !== ACCESS_TOKEN_TYPE) {
    throw new InvalidRequest('an access token subject_token is required', 'exchange.subject_token')
  }
  const requestedType = form.get('requested_token_type')
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    throw new InvalidRequest('only access tokens can be requested', 'exchange.requested_type')
  }
  if (form.has('actor_token') || form.has('actor_token_type')) {
    throw new InvalidRequest('actor tokens are not supported', 'exchange.actor_token')
  }
  const audienceParameter = form.get('audience')
  if (audienceParameter !== undefined && grant.resources !== undefined) {
    throw new InvalidRequest('use resource or audience, not both', 'exchange.both_targets')
  }
  const targets = audienceParameter === undefined ? grant.resources : [audienceParameter]
  if (targets === undefined || targets.length === 0) {
    throw new InvalidTarget('a resource or audience is required', 'exchange.no_target')
  }
  const audience = resolveAudience(targets, client)

  const subject = await findToken(ctx, subjectToken)
  if (!isActive(subject, ctx.now()) || subject.kind !== 'access_token') {
    throw new InvalidRequest('the subject_token is not active', 'exchange.inactive_subject')
  }
  const available = subject.scope.split(' ').filter((scope) => client.scopes.includes(scope))
  const requested = form.get('scope')
  const scopes = requested === undefined ? available : parseScope(requested)
  if (scopes.some((scope) => !available.includes(scope))) {
    throw new InvalidScope('a requested scope exceeds the subject token', 'exchange.scope')
  }
  const user = await ctx.store.getUserById(subject.subject)
  const actor: Record<string, unknown> = { sub: client.clientId }
  if (subject.claims.act !== undefined) actor.act = subject.claims.act
  const issued = await issueAccessToken(ctx, {
    client,
    subject: subject.subject,
    scopes,
    audience,
    claims: user === null ? {} : releaseClaims(scopes, user.claims, ctx.config.scopes, audience),
    actor,
    notAfter: subject.expiresAt,
  })
  ctx.audit.emit({
    type: 'token.exchanged',
    outcome: 'success',
    tokenId: issued.record.jti,
    clientId: client.clientId,
    subject: subject.subject,
    requestId: request.requestId,
    ip: request.ip,
    details: {
      subjectTokenId: subject.jti,
      audience: audience.join(' '),
      scope: issued.record.scope,
    },
  })
  return {
    access_token: issued.token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: issued.record.scope,
  }
}
