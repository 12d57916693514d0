import { authenticateClient } from '../client-auth/authenticate-client.js'
import type { RequestContext, ServerContext } from '../context.js'
import { readForm } from '../http/form.js'
import { sendJson } from '../http/respond.js'
import { generateOpaque } from '../tokens/opaque.js'
import { tokenHash } from '../tokens/token-hash.js'
import {
  REQUEST_URI_PREFIX,
  RedirectableAuthorizationError,
  UnsafeAuthorizationError,
  validateAuthorizationRequest,
} from './authorize/request.js'

const PAR_TTL_SECONDS = 60

/**
 * POST /par (RFC 9126): the client pushes its authorization request over the back channel,
 * authenticated, and gets a single-use `request_uri`. The request is validated now, so errors
 * come back as JSON to the client rather than to the browser.
 */
export function createPushedAuthorizationEndpoint(
  ctx: ServerContext,
): (rc: RequestContext) => Promise<void> {
  return async function pushedAuthorizationEndpoint(rc) {
    const { single: form } = await readForm(rc.req, ctx.config.limits)
    const { client } = await authenticateClient(
      ctx,
      { authorization: rc.req.headers.authorization, ip: rc.ip, requestId: rc.requestId },
      form,
      ctx.urls.pushedAuthorization,
    )
    const parameters = new Map(form)
    for (const credential of ['client_secret', 'client_assertion', 'client_assertion_type']) {
      parameters.delete(credential)
    }
    parameters.set('client_id', client.clientId)
    try {
      await validateAuthorizationRequest(ctx, parameters, { pushed: true, client })
    } catch (error) {
      if (
        error instanceof UnsafeAuthorizationError ||
        error instanceof RedirectableAuthorizationError
      ) {
        throw error.error
      }
      throw error
    }
    const value = generateOpaque('request_uri')
    await ctx.store.insertPushedRequest({
      hash: tokenHash(value),
      clientId: client.clientId,
      parameters: Object.fromEntries(parameters),
      expiresAt: ctx.now() + PAR_TTL_SECONDS * 1000,
    })
    sendJson(rc.res, 201, {
      request_uri: `${REQUEST_URI_PREFIX}${value}`,
      expires_in: PAR_TTL_SECONDS,
    })
  }
}
