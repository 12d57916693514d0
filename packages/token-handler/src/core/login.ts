import * as oauth from 'oauth4webapi'
import { AuthorizationServerUnavailable, InvalidCookie, LoginFailed } from '../errors.js'
import { authorizationServerFailure } from './authorization-server-client.js'
import type { TokenHandlerContext } from './context.js'
import { createCsrfToken } from './csrf.js'
import { PROTOCOL_CLAIMS, type SessionState, sessionCookies, sessionState } from './session.js'

/**
 * Login start and end (the authorization-code flow with PKCE, as a confidential client).
 *
 * Start: fresh `state`, PKCE S256 verifier and `nonce`, sealed into a short-lived login cookie;
 * the browser that started the login is the only one that can finish it, because the callback's
 * `state` must equal the one sealed in this browser's cookie (RFC 9700 §4.7: CSRF on the
 * redirect URI; §2.1.1: PKCE). The request is pushed (PAR, RFC 9126) when the server offers it.
 *
 * End: the SPA posts the page URL it landed on. Not a callback → `handled: false`. A callback →
 * state and `iss` (RFC 9207) checked, the code exchanged, the ID token validated by oauth4webapi
 * (iss, aud, azp, exp, iat, nonce) and its signature checked against the server's JWKS, and the
 * session cookies set.
 */
export interface LoginStartResult {
  readonly authorizationUrl: string
  readonly setCookies: readonly string[]
}

interface LoginState {
  readonly state: string
  readonly codeVerifier: string
  readonly nonce: string
}

export async function startLogin(context: TokenHandlerContext): Promise<LoginStartResult> {
  const { authorizationServer: server, settings } = context
  const metadata = await server.metadata()
  if (metadata.authorization_endpoint === undefined) {
    throw new AuthorizationServerUnavailable(
      'the authorization server has no authorization endpoint',
      'login.no_authorization_endpoint',
      'bad_response',
    )
  }
  const login: LoginState = {
    state: oauth.generateRandomState(),
    codeVerifier: oauth.generateRandomCodeVerifier(),
    nonce: oauth.generateRandomNonce(),
  }
  const parameters = new URLSearchParams({
    ...settings.extraAuthorizationParameters,
    client_id: server.clientId,
    redirect_uri: settings.redirectUri,
    response_type: 'code',
    scope: settings.scope,
    state: login.state,
    nonce: login.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(login.codeVerifier),
    code_challenge_method: 'S256',
  })
  const authorizationUrl = new URL(metadata.authorization_endpoint)
  const push =
    metadata.require_pushed_authorization_requests === true ||
    (settings.pushedAuthorizationRequests &&
      metadata.pushed_authorization_request_endpoint !== undefined)
  if (push) {
    const { request_uri } = await pushAuthorizationRequest(context, metadata, parameters)
    authorizationUrl.searchParams.set('client_id', server.clientId)
    authorizationUrl.searchParams.set('request_uri', request_uri)
  } else {
    for (const [name, value] of parameters) authorizationUrl.searchParams.set(name, value)
  }
  const loginCookie = context.cookies.set(
    'login',
    JSON.stringify(login),
    settings.loginTimeoutSeconds,
  )
  return { authorizationUrl: authorizationUrl.href, setCookies: [loginCookie] }
}

async function pushAuthorizationRequest(
  context: TokenHandlerContext,
  metadata: oauth.AuthorizationServer,
  parameters: URLSearchParams,
): Promise<oauth.PushedAuthorizationResponse> {
  const server = context.authorizationServer
  try {
    const response = await oauth.pushedAuthorizationRequest(
      metadata,
      server.client(),
      server.clientAuth,
      parameters,
      server.requestOptions(),
    )
    return await oauth.processPushedAuthorizationResponse(metadata, server.client(), response)
  } catch (error) {
    throw authorizationServerFailure(error, 'par', (oauthError) => {
      // The server refused our own request: a configuration fault (scope, redirect URI).
      return new AuthorizationServerUnavailable(
        `the authorization server refused the login request (${oauthError})`,
        'par.refused',
        'bad_response',
      )
    })
  }
}

export interface LoginEndResult {
  readonly handled: boolean
  readonly session: SessionState
  readonly setCookies: readonly string[]
}

export async function endLogin(
  context: TokenHandlerContext,
  pageUrl: string,
  cookieHeader: string | undefined,
): Promise<LoginEndResult> {
  const callback = parseCallback(pageUrl, context.settings.redirectUri)
  if (callback === null) {
    return { handled: false, session: sessionState(context, cookieHeader), setCookies: [] }
  }
  const clearLogin = context.cookies.clear('login')
  const login = openLoginCookie(context, cookieHeader)
  const server = context.authorizationServer
  const metadata = await server.metadata()
  let parameters: URLSearchParams
  try {
    parameters = oauth.validateAuthResponse(metadata, server.client(), callback, login.state)
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      throw new LoginFailed(
        'the authorization server refused the login',
        'login.denied',
        error.error,
      )
    }
    throw new LoginFailed('the login response does not match this login', 'login.state_mismatch')
  }
  let tokens: oauth.TokenEndpointResponse
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      metadata,
      server.client(),
      server.clientAuth,
      parameters,
      context.settings.redirectUri,
      login.codeVerifier,
      server.requestOptions(),
    )
    tokens = await oauth.processAuthorizationCodeResponse(metadata, server.client(), response, {
      expectedNonce: login.nonce,
      requireIdToken: true,
    })
    // Defence in depth: TLS already authenticates the server, but the ID token is kept in a
    // cookie and its claims shown to the SPA, so its signature is checked against the JWKS too.
    await oauth.validateApplicationLevelSignature(metadata, response, {
      ...server.requestOptions(),
      [oauth.jwksCache]: server.jwksCache,
    })
  } catch (error) {
    if (error instanceof oauth.OperationProcessingError && isTokenCheck(error)) {
      throw new LoginFailed('the ID token is not valid', 'login.id_token_invalid')
    }
    throw authorizationServerFailure(error, 'login', (oauthError) => {
      return new LoginFailed('the authorization code was refused', 'login.code_refused', oauthError)
    })
  }
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  const sessionExpiresAt =
    Math.floor(context.now() / 1000) + context.settings.sessionLifetimeSeconds
  const csrfToken = createCsrfToken()
  const setCookies = [
    ...sessionCookies(context, tokens, sessionExpiresAt, { csrfToken, idToken: tokens.id_token }),
    clearLogin,
  ]
  context.audit?.emit({
    type: 'session.started',
    component: 'token-handler',
    outcome: 'success',
    clientId: server.clientId,
    ...(claims?.sub === undefined ? {} : { subject: claims.sub }),
  })
  return {
    handled: true,
    session: {
      isLoggedIn: true,
      csrfToken,
      claims: userClaims(claims),
      sessionExpiresAt,
    },
    setCookies,
  }
}

/** The callback parameters when `pageUrl` is the redirect URI carrying a response, else null. */
function parseCallback(pageUrl: string, redirectUri: string): URL | null {
  let url: URL
  try {
    url = new URL(pageUrl)
  } catch {
    return null
  }
  const expected = new URL(redirectUri)
  if (url.origin !== expected.origin || url.pathname !== expected.pathname) return null
  const query = url.searchParams
  const isResponse = query.has('state') && (query.has('code') || query.has('error'))
  return isResponse ? url : null
}

function openLoginCookie(context: TokenHandlerContext, cookieHeader: string | undefined) {
  let opened: ReturnType<TokenHandlerContext['cookies']['open']>
  try {
    opened = context.cookies.open(cookieHeader, 'login')
  } catch (error) {
    if (error instanceof InvalidCookie) {
      throw new LoginFailed('the login cookie is not valid', `login.${error.reason}`)
    }
    throw error
  }
  if (opened.status !== 'valid') {
    throw new LoginFailed('no login was started in this browser, or it timed out', 'login.no_login')
  }
  return parseLoginState(opened.value)
}

function parseLoginState(json: string): LoginState {
  try {
    const parsed = JSON.parse(json) as Partial<Record<keyof LoginState, unknown>>
    const { state, codeVerifier, nonce } = parsed
    if (
      typeof state === 'string' &&
      typeof codeVerifier === 'string' &&
      typeof nonce === 'string'
    ) {
      return { state, codeVerifier, nonce }
    }
  } catch {
    // fall through: a login cookie sealed by us always parses; anything else is refused
  }
  throw new LoginFailed('the login cookie is not valid', 'login.cookie_payload')
}

function isTokenCheck(error: oauth.OperationProcessingError): boolean {
  return (
    error.code === oauth.JWT_CLAIM_COMPARISON ||
    error.code === oauth.JWT_TIMESTAMP_CHECK ||
    error.code === oauth.INVALID_RESPONSE ||
    error.code === oauth.KEY_SELECTION
  )
}

/** The ID token's user claims, for the SPA: the subject and what the user consented to. */
function userClaims(claims: oauth.IDToken | undefined): Record<string, unknown> {
  if (claims === undefined) return {}
  const result: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(claims)) {
    if (!PROTOCOL_CLAIMS.has(name)) result[name] = value
  }
  return result
}
