import type { ServerContext } from '../context.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import type { FormParameters } from '../http/form.js'
import type { ClientRecord, TokenEndpointAuthMethod } from '../store/store.js'
import { parseBasicCredentials, verifyClientSecret } from './client-secret.js'
import {
  JWT_BEARER_ASSERTION_TYPE,
  unverifiedAssertionSubject,
  verifyClientAssertion,
} from './private-key-jwt.js'

export interface AuthenticatedClient {
  readonly client: ClientRecord
  readonly method: TokenEndpointAuthMethod
}

interface Presented {
  readonly method: TokenEndpointAuthMethod
  readonly clientId: string | undefined
  readonly secret?: string
  readonly assertion?: string
}

/** Which one method the request uses; more than one is refused (RFC 6749 §2.3). */
function presentedCredentials(authorization: string | undefined, form: FormParameters): Presented {
  const basic = authorization !== undefined && /^basic /i.test(authorization.trim())
  const post = form.has('client_secret')
  const jwt = form.has('client_assertion') || form.has('client_assertion_type')
  if (Number(basic) + Number(post) + Number(jwt) > 1) {
    throw new InvalidRequest('use exactly one client authentication method', 'client_auth.multiple')
  }
  if (authorization !== undefined && !basic) {
    throw new InvalidClient('unsupported Authorization scheme', 'client_auth.scheme', true)
  }
  const formClientId = form.get('client_id')
  if (basic) {
    const credentials = parseBasicCredentials(authorization ?? '')
    if (credentials === null) {
      throw new InvalidClient('malformed Basic credentials', 'client_auth.malformed', true)
    }
    if (formClientId !== undefined && formClientId !== credentials.clientId) {
      throw new InvalidRequest('client_id does not match the credentials', 'client_auth.mismatch')
    }
    return {
      method: 'client_secret_basic',
      clientId: credentials.clientId,
      secret: credentials.clientSecret,
    }
  }
  if (post) {
    return {
      method: 'client_secret_post',
      clientId: formClientId,
      secret: form.get('client_secret') ?? '',
    }
  }
  if (jwt) {
    const assertion = form.get('client_assertion')
    if (
      form.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE ||
      assertion === undefined
    ) {
      throw new InvalidClient('unsupported client assertion', 'client_auth.assertion_type', false)
    }
    const subject = unverifiedAssertionSubject(assertion)
    if (formClientId !== undefined && formClientId !== subject) {
      throw new InvalidRequest('client_id does not match the assertion', 'client_auth.mismatch')
    }
    return { method: 'private_key_jwt', clientId: subject ?? undefined, assertion }
  }
  return { method: 'none', clientId: formClientId }
}

/**
 * Authenticates the client of a back-channel request (/token, /introspect, /revoke, /par) with
 * the one method it registered. A failure is `invalid_client` (401), the same for an unknown
 * client, a wrong secret and a wrong method, and is written to the audit trail.
 */
export async function authenticateClient(
  ctx: ServerContext,
  request: {
    readonly authorization: string | undefined
    readonly ip: string
    readonly requestId: string
  },
  form: FormParameters,
  endpointUrl: string,
): Promise<AuthenticatedClient> {
  const presented = presentedCredentials(request.authorization, form)
  const challengeBasic = presented.method === 'client_secret_basic'
  const fail = (reason: string, clientId?: string): never => {
    ctx.audit.emit({
      type: 'client.auth_failed',
      outcome: 'failure',
      reason,
      ip: request.ip,
      requestId: request.requestId,
      ...(clientId === undefined ? {} : { clientId }),
    })
    throw new InvalidClient('client authentication failed', reason, challengeBasic)
  }
  if (presented.clientId === undefined || presented.clientId.length > 256) {
    return fail('client_auth.missing')
  }
  const client = await ctx.store.getClient(presented.clientId)
  if (client === null) {
    if (presented.secret !== undefined) verifyClientSecret(presented.secret, null)
    return fail('client_auth.unknown_client')
  }
  if (client.tokenEndpointAuthMethod !== presented.method) {
    if (client.tokenEndpointAuthMethod === 'client_secret_basic') {
      ctx.audit.emit({
        type: 'client.auth_failed',
        outcome: 'failure',
        reason: 'client_auth.method_mismatch',
        clientId: client.clientId,
        ip: request.ip,
        requestId: request.requestId,
      })
      throw new InvalidClient('client authentication failed', 'client_auth.method_mismatch', true)
    }
    return fail('client_auth.method_mismatch', client.clientId)
  }
  switch (presented.method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (!verifyClientSecret(presented.secret ?? '', client.secretHash)) {
        return fail('client_auth.wrong_secret', client.clientId)
      }
      break
    case 'private_key_jwt': {
      const failure = await verifyClientAssertion(
        ctx,
        client,
        presented.assertion ?? '',
        endpointUrl,
      )
      if (failure !== null) return fail(`client_auth.assertion_${failure}`, client.clientId)
      break
    }
    case 'none':
      break
  }
  return { client, method: presented.method }
}
