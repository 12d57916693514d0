import { SignJWT } from 'jose'
import { authenticateClient } from '../client-auth/authenticate-client.js'
import type { RequestContext, ServerContext } from '../context.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import { readForm } from '../http/form.js'
import { sendJson, sendText } from '../http/respond.js'
import type { TokenRecord } from '../store/store.js'
import { accessTokenClaims } from '../tokens/access-token.js'
import { findToken, isActive } from '../tokens/lookup.js'
import { createPhantomTokens } from '../tokens/phantom.js'

const INACTIVE = { active: false }

/**
 * POST /introspect (RFC 7662), for authenticated confidential clients (gateways, APIs).
 * Answers by `Accept`:
 *  - `application/token-introspection+jwt`: RFC 9701 signed introspection response;
 *  - `application/jwt`: the RFC 9068 JWT form of an active access token (phantom-token pattern);
 *  - otherwise JSON. Anything not active is `{"active":false}` and nothing else.
 */
export function createIntrospectionEndpoint(
  ctx: ServerContext,
): (rc: RequestContext) => Promise<void> {
  const phantom = createPhantomTokens(ctx)

  function introspectionResponse(record: TokenRecord): Record<string, unknown> {
    if (record.kind === 'refresh_token') {
      return {
        active: true,
        token_type: 'refresh_token',
        iss: ctx.config.issuer,
        client_id: record.clientId,
        sub: record.subject,
        scope: record.scope,
        aud: record.audience.length === 1 ? record.audience[0] : record.audience,
        exp: Math.floor(record.expiresAt / 1000),
        iat: Math.floor(record.issuedAt / 1000),
        jti: record.jti,
      }
    }
    return { active: true, token_type: 'Bearer', ...accessTokenClaims(ctx, record) }
  }

  async function signedResponse(callerId: string, body: Record<string, unknown>): Promise<string> {
    const { kid, alg, key } = await ctx.keys.signingKey()
    // RFC 9701 §5: typ token-introspection+jwt; the response is for the caller (aud).
    return new SignJWT({ token_introspection: body })
      .setProtectedHeader({ alg, kid, typ: 'token-introspection+jwt' })
      .setIssuer(ctx.config.issuer)
      .setAudience(callerId)
      .setIssuedAt(Math.floor(ctx.now() / 1000))
      .sign(key)
  }

  return async function introspectionEndpoint(rc) {
    const { single: form } = await readForm(rc.req, ctx.config.limits)
    const { client } = await authenticateClient(
      ctx,
      { authorization: rc.req.headers.authorization, ip: rc.ip, requestId: rc.requestId },
      form,
      ctx.urls.introspection,
    )
    if (client.tokenEndpointAuthMethod === 'none') {
      throw new InvalidClient('public clients cannot introspect', 'introspect.public_client', false)
    }
    const token = form.get('token')
    if (token === undefined)
      throw new InvalidRequest('token is required', 'introspect.missing_token')
    const record = await findToken(ctx, token)
    // A refresh token concerns only its own client; access tokens of other clients are visible
    // only to the callers the configuration allows. To anyone else a token is foreign: inactive.
    const own = record !== null && record.clientId === client.clientId
    const allowed = ctx.config.introspection.allowedClients
    const active =
      isActive(record, ctx.now()) &&
      (own ||
        (record.kind === 'access_token' &&
          (allowed === undefined || allowed.includes(client.clientId))))
    const accept = (rc.req.headers.accept ?? '').toLowerCase()
    if (accept.includes('application/token-introspection+jwt')) {
      const body = active ? introspectionResponse(record) : INACTIVE
      const jwt = await signedResponse(client.clientId, body)
      sendText(rc.res, 200, 'application/token-introspection+jwt', jwt)
      return
    }
    if (!active) {
      sendJson(rc.res, 200, INACTIVE)
      return
    }
    if (accept.includes('application/jwt') && record.kind === 'access_token') {
      // Opaque and split tokens get their JWT form signed once (see phantom.ts).
      const jwt = record.format === 'jwt' ? token : await phantom.jwtFormOf(record)
      sendText(rc.res, 200, 'application/jwt', jwt)
      return
    }
    sendJson(rc.res, 200, introspectionResponse(record))
  }
}
