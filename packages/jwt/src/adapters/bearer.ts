/**
 * The framework-free core of the `@gatehouse/jwt` middleware: reads the bearer token from a
 * request (RFC 6750 §2.1, header only), validates it, checks scopes, and renders every failure as
 * an RFC 6750 §3 `WWW-Authenticate` challenge plus an RFC 9457 `application/problem+json` body.
 * The node:http, Express and Fastify adapters are thin wrappers around these three functions.
 */
import {
  AccessDenied,
  BearerError,
  GatehouseError,
  InsufficientScope,
  InvalidBearerRequest,
  KeySetUnavailable,
  MissingToken,
} from '../errors.js'
import { requireScopes } from '../policies/scope.js'
import type { VerifiedToken } from '../types.js'
import type { JwtValidator } from '../validator.js'

/** What the core needs from a request, whatever the framework. */
export interface BearerRequest {
  /** Header names and values as received, alternating (node's `req.rawHeaders`). */
  readonly rawHeaders: readonly string[]
  /** The request target (path and query) as received. */
  readonly url: string
  /** The parsed body, when a body parser ran before the middleware; never read otherwise. */
  readonly body?: unknown
}

export interface BearerChallengeOptions {
  /** The protection space named in every challenge (RFC 9110 §11.5). */
  readonly realm: string
  /** RFC 9728 §5.1: where clients find this resource's OAuth protected resource metadata. */
  readonly resourceMetadataUrl?: string | URL
  /** `Retry-After` (seconds) when the issuer's keys cannot be had. Default 5. */
  readonly retryAfterSeconds?: number
}

export interface RenderedBearerError {
  readonly status: number
  /** Lower-case header names: content-type, cache-control, and www-authenticate / retry-after. */
  readonly headers: Readonly<Record<string, string>>
  /** The serialised `application/problem+json` document. */
  readonly body: string
}

export interface ProblemDetails {
  readonly type: 'about:blank'
  readonly title: string
  readonly status: number
  readonly detail: string
  /** The Gatehouse error code (RFC 6750 code where one exists), for clients to switch on. */
  readonly error: string
}

const AUTHORIZATION = 'authorization'
/** RFC 9110 §5.6.2 token: the auth-scheme. */
const AUTH_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/
/** RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. */
const BEARER_CREDENTIALS = /^ +([A-Za-z0-9\-._~+/]+=*)$/
const MAY_NAME_ACCESS_TOKEN = /access|%/i
/** RFC 6749 appendix A.4 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Returns the bearer token of a request, or throws `MissingToken` (401, no error code) or
 * `InvalidBearerRequest` (400 invalid_request). Tokens in the query string or the body are
 * refused, never used (RFC 6750 §2.2 and §2.3 are optional and Gatehouse takes neither: URLs end
 * up in logs and browser history). Error messages never contain the token.
 */
export function extractBearerToken(request: BearerRequest): string {
  const authorization = readAuthorizationHeader(request.rawHeaders)
  if (hasAccessTokenParameter(request.url)) {
    throw new InvalidBearerRequest(
      'bearer.token_in_query',
      'access tokens are accepted in the Authorization header only, never in the URL',
    )
  }
  if (hasAccessTokenMember(request.body)) {
    throw new InvalidBearerRequest(
      'bearer.token_in_body',
      'access tokens are accepted in the Authorization header only, never in the request body',
    )
  }
  if (authorization === undefined || authorization === '') throw new MissingToken()
  const scheme = AUTH_SCHEME.exec(authorization)?.[0]
  // RFC 7235 §2.1: the scheme name is case-insensitive. Another scheme is "no authentication
  // information we understand", for which RFC 6750 §3.1 wants a challenge without an error code.
  if (scheme === undefined) throw malformedHeader()
  if (scheme.toLowerCase() !== 'bearer') throw new MissingToken()
  const token = BEARER_CREDENTIALS.exec(authorization.slice(scheme.length))?.[1]
  if (token === undefined) throw malformedHeader()
  return token
}

/**
 * Extracts, validates and (when `scopes` are given) checks that the token carries every one of
 * them. Rejects with a `BearerError`, `KeySetUnavailable`, or whatever unexpected error the
 * validator threw (render it with `renderBearerError`, which turns it into a generic 500).
 */
export async function authenticateRequest(
  validator: Pick<JwtValidator, 'validate'>,
  request: BearerRequest,
  options: { readonly scopes?: readonly string[] } = {},
): Promise<VerifiedToken> {
  const token = extractBearerToken(request)
  const verified = await validator.validate(token)
  if (options.scopes !== undefined && options.scopes.length > 0)
    requireScopes(verified, ...options.scopes)
  return verified
}

/**
 * Renders any error as the response a resource server gives. A renderer never reads `detail`,
 * `cause` or `stack`: the body carries the error's safe message only, and anything that is not
 * an exposed Gatehouse error becomes a generic 500.
 */
export function renderBearerError(
  error: unknown,
  options: BearerChallengeOptions,
): RenderedBearerError {
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    // RFC 6750 §5.3 / RFC 9111: an authentication failure must not be stored by a cache.
    'cache-control': 'no-store',
  }
  if (!(error instanceof GatehouseError) || !error.expose || !isErrorStatus(error.status)) {
    return respond(500, 'server_error', 'the server could not process the request', headers)
  }
  if (error instanceof KeySetUnavailable) {
    // Not the client's fault and not a token problem: no invalid_token, so clients keep the token.
    headers['retry-after'] = String(options.retryAfterSeconds ?? 5)
    return respond(error.status, error.code, error.message, headers)
  }
  if (error instanceof AccessDenied) {
    // A claims policy said no. RFC 6750 has no code for this and a new token would not help
    // (RFC 9110 §15.5.4), so there is no challenge: the body says why.
    return respond(error.status, error.code, error.message, headers)
  }
  if (error instanceof BearerError) {
    headers['www-authenticate'] = bearerChallenge(error, options)
  }
  return respond(error.status, error.code, error.message, headers)
}

/** The `WWW-Authenticate` value for a bearer error (RFC 6750 §3). */
export function bearerChallenge(error: BearerError, options: BearerChallengeOptions): string {
  const params: [string, string][] = [['realm', options.realm]]
  // RFC 6750 §3.1: a request without authentication information gets no error code.
  if (!(error instanceof MissingToken)) {
    params.push(['error', error.code], ['error_description', error.message])
  }
  if (error instanceof InsufficientScope) params.push(['scope', error.requiredScope])
  if (options.resourceMetadataUrl !== undefined) {
    params.push(['resource_metadata', String(options.resourceMetadataUrl)])
  }
  return `Bearer ${params.map(([name, value]) => `${name}=${quotedString(name, value)}`).join(', ')}`
}

/**
 * Checks challenge options once, when a middleware is created, so a configuration mistake is a
 * `TypeError` at start-up rather than a broken header at request time.
 */
export function checkChallengeOptions(options: BearerChallengeOptions): BearerChallengeOptions {
  const { realm, resourceMetadataUrl, retryAfterSeconds } = options
  if (typeof realm !== 'string' || !/^[\x20-\x7E]+$/.test(realm)) {
    throw new TypeError('realm is required: printable ASCII naming the protected API')
  }
  if (resourceMetadataUrl !== undefined) {
    let url: URL
    try {
      url = new URL(resourceMetadataUrl)
    } catch {
      throw new TypeError('resourceMetadataUrl must be an absolute URL')
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new TypeError('resourceMetadataUrl must be an https URL (RFC 9728 §3)')
  }
  if (
    retryAfterSeconds !== undefined &&
    (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0)
  ) {
    throw new TypeError('retryAfterSeconds must be a non-negative integer')
  }
  return Object.freeze({ ...options })
}

/** Checks a list of required scopes once, at start-up: each must be an RFC 6749 scope-token. */
export function checkScopes(scopes: readonly string[] | undefined, where: string): string[] {
  const list = [...(scopes ?? [])]
  for (const scope of list) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw new TypeError(`${where}: "${String(scope)}" is not a valid scope (RFC 6749 §3.3)`)
    }
  }
  return list
}

/** Calls an `onError` observer; an observer that throws must not change the answer. */
export function notifyError<Request>(
  onError: ((error: unknown, req: Request) => void) | undefined,
  error: unknown,
  req: Request,
): void {
  if (onError === undefined) return
  try {
    onError(error, req)
  } catch {
    // Ignored on purpose: trouble in logging must not turn a 401 into something else.
  }
}

/** Reads the one Authorization header; node's `req.headers` silently keeps only the first. */
function readAuthorizationHeader(rawHeaders: readonly string[]): string | undefined {
  let value: string | undefined
  let count = 0
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name?.length === AUTHORIZATION.length && name.toLowerCase() === AUTHORIZATION) {
      count++
      value = rawHeaders[i + 1]
    }
  }
  if (count > 1) {
    throw new InvalidBearerRequest(
      'bearer.multiple_headers',
      'the request carries more than one Authorization header',
    )
  }
  // RFC 9110 §5.5: leading and trailing whitespace is not part of a field value.
  return value?.replace(/^[ \t]+|[ \t]+$/g, '')
}

/** RFC 6750 §2.3 `access_token` in the query, in any case or percent-encoding, or as `access_token[…]`. */
function hasAccessTokenParameter(url: string): boolean {
  const start = url.indexOf('?')
  if (start < 0) return false
  const end = url.indexOf('#', start)
  const query = url.slice(start + 1, end < 0 ? undefined : end)
  // Fast path: the name can only be there spelled out or percent-encoded.
  if (!MAY_NAME_ACCESS_TOKEN.test(query)) return false
  for (const name of new URLSearchParams(query).keys()) {
    if (isAccessTokenName(name)) return true
  }
  return false
}

/** RFC 6750 §2.2 `access_token` in a body a parser has already turned into an object. */
function hasAccessTokenMember(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false
  if (ArrayBuffer.isView(body)) return false
  return Object.keys(body).some(isAccessTokenName)
}

function isAccessTokenName(name: string): boolean {
  const lower = name.toLowerCase()
  return lower === 'access_token' || lower.startsWith('access_token[')
}

function malformedHeader(): InvalidBearerRequest {
  return new InvalidBearerRequest(
    'bearer.malformed_header',
    'the Authorization header is not a well-formed Bearer credential',
  )
}

/**
 * RFC 9110 §5.6.4 quoted-string. RFC 6750 §3 further limits `error_description` and `scope` to
 * %x20-21 / %x23-5B / %x5D-7E, so there `"` becomes `'` and `\` is dropped. Control characters
 * (CR and LF included: no header injection) and non-ASCII are dropped everywhere.
 */
function quotedString(name: string, value: string): string {
  let text = value.replace(/[^\x20-\x7E]/g, '')
  if (name === 'error_description' || name === 'scope' || name === 'error') {
    text = text.replaceAll('"', "'").replaceAll('\\', '')
  }
  return `"${text.replace(/["\\]/g, '\\$&')}"`
}

const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

function isErrorStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 400 && status <= 599
}

function respond(
  status: number,
  error: string,
  detail: string,
  headers: Record<string, string>,
): RenderedBearerError {
  const problem: ProblemDetails = {
    type: 'about:blank',
    // RFC 9457 §4.2.1: with type about:blank, the title is the status phrase.
    title: STATUS_TITLES[status] ?? (status < 500 ? 'Client Error' : 'Server Error'),
    status,
    detail,
    error,
  }
  return { status, headers, body: JSON.stringify(problem) }
}
