import type { ServerContext } from '../../context.js'
import { InvalidRequest, OAuthError } from '../../errors.js'
import type { ClientRecord } from '../../store/store.js'
import { grantScopes, resolveAudience } from '../../tokens/scope.js'
import { checkClient } from './checks/check-client.js'
import { checkPkce } from './checks/check-pkce.js'
import { checkMaxAge, checkPrompt } from './checks/check-prompt.js'
import { checkPushedRequest } from './checks/check-pushed-request.js'
import { checkRedirectUri } from './checks/check-redirect-uri.js'
import { checkResponseType } from './checks/check-response-type.js'

/** A validated authorization request (RFC 6749 §4.1.1 + RFC 7636 + OIDC Core §3.1.2.1). */
export interface AuthorizationRequest {
  readonly clientId: string
  readonly redirectUri: string
  readonly scopes: readonly string[]
  readonly audience: readonly string[]
  readonly state: string | null
  readonly nonce: string | null
  readonly codeChallenge: string
  readonly prompt: 'none' | 'login' | 'consent' | null
  /** OIDC `max_age` in seconds: an older login must be repeated. */
  readonly maxAge: number | null
}

export type Parameters = ReadonlyMap<string, string>

/**
 * An error that must not be redirected (RFC 6749 §4.1.2.1): the client or its redirect URI is
 * not trustworthy, so the user sees a page instead.
 */
export class UnsafeAuthorizationError extends Error {
  constructor(readonly error: OAuthError) {
    super(error.message)
    this.name = 'UnsafeAuthorizationError'
  }
}

/** An error delivered to the client's redirect URI. */
export class RedirectableAuthorizationError extends Error {
  constructor(
    readonly error: OAuthError,
    readonly redirectUri: string,
    readonly state: string | null,
  ) {
    super(error.message)
    this.name = 'RedirectableAuthorizationError'
  }
}

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'

/** Reads query or form parameters; any parameter given twice is refused (RFC 6749 §3.1). */
export function readParameters(search: URLSearchParams, maxLength: number): Map<string, string> {
  const parameters = new Map<string, string>()
  const seen = new Set<string>()
  for (const [name, value] of search) {
    if (seen.has(name)) {
      throw new UnsafeAuthorizationError(
        new InvalidRequest(`parameter ${name.slice(0, 40)} is repeated`, 'authorize.duplicate'),
      )
    }
    seen.add(name)
    if (value.length > maxLength) {
      throw new UnsafeAuthorizationError(
        new InvalidRequest('a parameter is too long', 'authorize.too_long'),
      )
    }
    if (value !== '') parameters.set(name, value)
  }
  return parameters
}

/** Runs the checks in order; errors after the redirect URI is known are redirectable. */
export async function validateAuthorizationRequest(
  ctx: ServerContext,
  input: Parameters,
  options: { readonly pushed: boolean; readonly client?: ClientRecord },
): Promise<{ client: ClientRecord; request: AuthorizationRequest }> {
  const client = options.client ?? (await checkClient(ctx, input))
  if (options.client === undefined && input.get('client_id') !== client.clientId) {
    throw new UnsafeAuthorizationError(
      new InvalidRequest('client_id mismatch', 'authorize.client_mismatch'),
    )
  }
  if (options.pushed && input.has('request_uri')) {
    throw new InvalidRequest('request_uri cannot be pushed', 'par.request_uri')
  }
  const parameters = options.pushed ? input : await checkPushedRequest(ctx, client, input)
  if (parameters.has('client_id') && parameters.get('client_id') !== client.clientId) {
    throw new UnsafeAuthorizationError(
      new InvalidRequest('client_id mismatch', 'authorize.client_mismatch'),
    )
  }
  const redirectUri = checkRedirectUri(client, parameters)
  const state = parameters.get('state') ?? null
  try {
    checkResponseType(parameters)
    const codeChallenge = checkPkce(parameters)
    const scopes = grantScopes(parameters.get('scope'), client, ctx.knownScopes)
    const resource = parameters.get('resource')
    const audience = resolveAudience(resource === undefined ? undefined : [resource], client)
    const nonce = parameters.get('nonce') ?? null
    if (nonce !== null && nonce.length > 512) {
      throw new InvalidRequest('nonce is too long', 'authorize.nonce')
    }
    return {
      client,
      request: {
        clientId: client.clientId,
        redirectUri,
        scopes,
        audience,
        state,
        nonce,
        codeChallenge,
        prompt: checkPrompt(parameters),
        maxAge: checkMaxAge(parameters),
      },
    }
  } catch (error) {
    // Only an OAuth refusal goes back to the client; anything else (a bug, a system error with
    // its own `code`) stays a 500 on the server's own page.
    if (error instanceof OAuthError) {
      throw new RedirectableAuthorizationError(error, redirectUri, state)
    }
    throw error
  }
}
