import type { ServerContext } from '../../context.js'
import {
  InvalidRequest,
  InvalidRequestUri,
  type OAuthError,
  UnauthorizedClient,
  UnsupportedResponseType,
} from '../../errors.js'
import type { ClientRecord } from '../../store/store.js'
import { isWellFormedOpaque } from '../../tokens/opaque.js'
import { grantScopes, resolveAudience } from '../../tokens/scope.js'
import { tokenHash } from '../../tokens/token-hash.js'

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

/** checkResponseType: the code flow only (no implicit, no hybrid); query response mode only. */
export function checkResponseType(parameters: Parameters): void {
  if (parameters.get('response_type') !== 'code') {
    throw new UnsupportedResponseType(
      'only response_type=code is supported',
      'authorize.response_type',
    )
  }
  const mode = parameters.get('response_mode')
  if (mode !== undefined && mode !== 'query') {
    throw new InvalidRequest('only response_mode=query is supported', 'authorize.response_mode')
  }
  for (const unsupported of ['request', 'claims', 'registration']) {
    if (parameters.has(unsupported)) {
      throw new InvalidRequest(
        `the ${unsupported} parameter is not supported`,
        `authorize.${unsupported}`,
      )
    }
  }
}

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

/** checkPkce (RFC 7636, RFC 9700 §2.1.1): S256 for every client; `plain` and absence refused. */
export function checkPkce(parameters: Parameters): string {
  const challenge = parameters.get('code_challenge')
  const method = parameters.get('code_challenge_method')
  if (challenge === undefined) {
    throw new InvalidRequest('code_challenge is required (PKCE)', 'pkce.missing')
  }
  if (method !== 'S256') {
    throw new InvalidRequest('code_challenge_method must be S256', 'pkce.method')
  }
  if (!CODE_CHALLENGE.test(challenge)) {
    throw new InvalidRequest('code_challenge is malformed', 'pkce.malformed')
  }
  return challenge
}

export function checkMaxAge(parameters: Parameters): number | null {
  const maxAge = parameters.get('max_age')
  if (maxAge === undefined) return null
  if (!/^\d{1,9}$/.test(maxAge))
    throw new InvalidRequest('max_age is malformed', 'authorize.max_age')
  return Number(maxAge)
}

export function checkPrompt(parameters: Parameters): AuthorizationRequest['prompt'] {
  const prompt = parameters.get('prompt')
  if (prompt === undefined) return null
  if (prompt === 'none' || prompt === 'login' || prompt === 'consent') return prompt
  throw new InvalidRequest('unsupported prompt value', 'authorize.prompt')
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
    if (error instanceof Error && 'code' in error && !(error instanceof UnsafeAuthorizationError)) {
      throw new RedirectableAuthorizationError(error as OAuthError, redirectUri, state)
    }
    throw error
  }
}
