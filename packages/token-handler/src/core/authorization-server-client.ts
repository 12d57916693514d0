import * as oauth from 'oauth4webapi'
import { AuthorizationServerUnavailable, type TokenHandlerError } from '../errors.js'

/**
 * The token handler's view of the authorization server, through oauth4webapi: discovery (lazy,
 * cached, retried after a failure so the token handler starts while the server is down), the
 * confidential client's authentication, and the mapping of transport failures to
 * `authorization_server_unavailable` (never a 401: an outage must not log anyone out).
 */
export type CustomFetch = (
  url: string,
  options: oauth.CustomFetchOptions<string, unknown>,
) => Promise<Response>

export interface AuthorizationServerClientOptions {
  readonly issuer: URL
  readonly clientId: string
  readonly clientAuth: oauth.ClientAuth
  /** The fetch every request to the server goes through (an undici Agent trusting the CA). */
  readonly fetch: CustomFetch
  readonly timeoutMs: number
  readonly now: () => number
}

export interface AuthorizationServerClient {
  readonly clientId: string
  readonly clientAuth: oauth.ClientAuth
  /** The server's metadata (RFC 8414 / OIDC discovery), fetched once. */
  metadata(): Promise<oauth.AuthorizationServer>
  /** The oauth4webapi client, with its clock following the injected `now`. */
  client(): oauth.Client
  /** Per-request options: the custom fetch and a timeout. */
  requestOptions(): { [oauth.customFetch]: CustomFetch; signal: AbortSignal }
  /** oauth4webapi's JWKS cache for the server's signing keys (filled on first use). */
  readonly jwksCache: oauth.JWKSCacheInput
}

export function createAuthorizationServerClient(
  options: AuthorizationServerClientOptions,
): AuthorizationServerClient {
  let discovery: Promise<oauth.AuthorizationServer> | null = null

  function requestOptions() {
    return {
      [oauth.customFetch]: options.fetch,
      signal: AbortSignal.timeout(options.timeoutMs),
    }
  }

  async function discover(): Promise<oauth.AuthorizationServer> {
    try {
      const response = await oauth.discoveryRequest(options.issuer, {
        ...requestOptions(),
        algorithm: 'oidc',
      })
      return await oauth.processDiscoveryResponse(options.issuer, response)
    } catch (error) {
      throw unavailable(error, 'discovery')
    }
  }

  return {
    clientId: options.clientId,
    clientAuth: options.clientAuth,
    metadata() {
      if (discovery === null) {
        const attempt = discover()
        discovery = attempt
        // A failed discovery is forgotten, so the next request tries again.
        attempt.catch(() => {
          if (discovery === attempt) discovery = null
        })
      }
      return discovery
    },
    client() {
      return {
        client_id: options.clientId,
        [oauth.clockSkew]: Math.round((options.now() - Date.now()) / 1000),
        [oauth.clockTolerance]: 30,
      }
    },
    requestOptions,
    jwksCache: {},
  }
}

/**
 * Maps an error from a call to the authorization server. OAuth error responses below 500 go to
 * `onOAuthError` (the caller decides: a refused code is a failed login, a refused refresh token
 * an expired session); everything else is the server being unreachable or answering nonsense.
 */
export function authorizationServerFailure(
  error: unknown,
  stage: string,
  onOAuthError: (oauthError: string, status: number) => TokenHandlerError,
): TokenHandlerError {
  if (error instanceof AuthorizationServerUnavailable) return error
  if (error instanceof oauth.ResponseBodyError && error.status < 500) {
    if (error.error === 'invalid_client' || error.error === 'unauthorized_client') {
      // The server refuses the token handler itself: a configuration fault, not the user's.
      return new AuthorizationServerUnavailable(
        'the authorization server refused the token handler',
        `${stage}.client_refused`,
        'bad_response',
      )
    }
    return onOAuthError(error.error, error.status)
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return new AuthorizationServerUnavailable(
      'the authorization server refused the token handler',
      `${stage}.client_refused`,
      'bad_response',
    )
  }
  return unavailable(error, stage)
}

function unavailable(error: unknown, stage: string): AuthorizationServerUnavailable {
  if (error instanceof oauth.ResponseBodyError) {
    const overloaded = error.status === 503 || error.error === 'temporarily_unavailable'
    return new AuthorizationServerUnavailable(
      'the authorization server is unavailable',
      `${stage}.server_error`,
      overloaded ? 'unreachable' : 'bad_response',
      { cause: error },
    )
  }
  if (error instanceof oauth.OperationProcessingError && statusOf(error.cause) === 503) {
    return new AuthorizationServerUnavailable(
      'the authorization server is unavailable',
      `${stage}.server_unavailable`,
      'unreachable',
      { cause: error },
    )
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof SyntaxError) {
    return new AuthorizationServerUnavailable(
      'the authorization server answered unexpectedly',
      `${stage}.bad_response`,
      'bad_response',
      { cause: error },
    )
  }
  // fetch failures (TypeError), timeouts (TimeoutError / AbortError), TLS errors.
  return new AuthorizationServerUnavailable(
    'the authorization server is unavailable',
    `${stage}.unreachable`,
    'unreachable',
    { cause: error },
  )
}

/** The HTTP status of a Response (undici's or the global one) that oauth4webapi attached. */
function statusOf(cause: unknown): number | undefined {
  if (typeof cause !== 'object' || cause === null || !('status' in cause)) return undefined
  return typeof cause.status === 'number' ? cause.status : undefined
}
