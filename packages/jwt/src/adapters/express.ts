/**
 * `@gatehouse/jwt/express`: bearer-token authentication for Express 5.
 *
 *   app.use(express.json())                              // optional; lets jwtAuth refuse body tokens
 *   app.use(jwtAuth({ validator, realm: 'orders' }))
 *   app.get('/orders', requireScope('orders:read'), (req, res) => res.json(list(req.auth?.subject)))
 *   app.use(jwtErrorHandler({ realm: 'orders' }))         // renders AccessDenied thrown by policies
 *
 * Failures are answered directly (not through `next(err)`), so an application error handler or
 * Express's own (which shows stacks outside production) never sees them.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express'
import { GatehouseError, InsufficientScope } from '../errors.js'
import { hasScopes } from '../policies/scope.js'
import type { VerifiedToken } from '../types.js'
import type { JwtValidator } from '../validator.js'
import {
  authenticateRequest,
  type BearerChallengeOptions,
  checkChallengeOptions,
  checkScopes,
  notifyError,
  renderBearerError,
} from './bearer.js'
import { writeBearerError } from './write-bearer-error.js'

declare global {
  namespace Express {
    interface Request {
      /** The verified access token; set by `jwtAuth()` before any later handler runs. */
      auth?: VerifiedToken
    }
  }
}

export interface ExpressJwtAuthOptions extends BearerChallengeOptions {
  readonly validator: Pick<JwtValidator, 'validate'>
  /** Scopes every request must carry (403 insufficient_scope otherwise). */
  readonly scopes?: readonly string[]
  /** Called with every error before it is answered, for logs and audit. Must not throw. */
  readonly onError?: (error: unknown, req: Request) => void
}

export interface ExpressErrorHandlerOptions extends BearerChallengeOptions {
  readonly onError?: (error: unknown, req: Request) => void
}

interface AuthenticatedBy {
  readonly challenge: BearerChallengeOptions
  readonly onError: ExpressJwtAuthOptions['onError']
}

/** The `jwtAuth` that authenticated a request, so `requireScope` answers and reports alike. */
const authenticatedBy = new WeakMap<Request, AuthenticatedBy>()

/**
 * Authenticates every request: sets `req.auth` and calls `next()`, or answers 400/401/403/503.
 * When a body parser ran first, a body with an `access_token` member is refused (400).
 */
export function jwtAuth(options: ExpressJwtAuthOptions): RequestHandler {
  const { validator, onError } = options
  if (typeof validator?.validate !== 'function') throw new TypeError('validator is required')
  const challenge = checkChallengeOptions(options)
  const scopes = checkScopes(options.scopes, 'jwtAuth scopes')
  const state: AuthenticatedBy = { challenge, onError }

  return async function authenticateExpressRequest(req, res, next) {
    let token: VerifiedToken
    try {
      token = await authenticateRequest(
        validator,
        { rawHeaders: req.rawHeaders, url: req.originalUrl, body: req.body },
        { scopes },
      )
    } catch (error) {
      notifyError(onError, error, req)
      writeBearerError(res, renderBearerError(error, challenge))
      return
    }
    req.auth = token
    authenticatedBy.set(req, state)
    next()
  }
}

/** Per-route scopes: 403 insufficient_scope unless `req.auth` carries every one of them. */
export function requireScope(...scopes: readonly string[]): RequestHandler {
  if (scopes.length === 0) throw new TypeError('requireScope needs at least one scope')
  const required = checkScopes(scopes, 'requireScope')

  return function requireExpressScope(req, res, next) {
    const state = authenticatedBy.get(req)
    if (req.auth === undefined || state === undefined) {
      // A wiring mistake (no jwtAuth before this handler): deny, with a generic 500.
      writeBearerError(
        res,
        renderBearerError(new TypeError('requireScope() runs only after jwtAuth()'), {
          realm: 'unused',
        }),
      )
      return
    }
    if (!hasScopes(req.auth, ...required)) {
      const error = new InsufficientScope(required)
      notifyError(state.onError, error, req)
      writeBearerError(res, renderBearerError(error, state.challenge))
      return
    }
    next()
  }
}

/**
 * Renders Gatehouse errors thrown by route code — `AccessDenied` from a claims policy,
 * `InsufficientScope` from `requireScopes()` — as 403 problem documents with the right
 * challenge. Other errors go on to the next error handler untouched.
 */
export function jwtErrorHandler(options: ExpressErrorHandlerOptions): ErrorRequestHandler {
  const challenge = checkChallengeOptions(options)
  const { onError } = options

  return function renderGatehouseError(error: unknown, req, res, next) {
    if (!(error instanceof GatehouseError)) {
      next(error)
      return
    }
    notifyError(onError, error, req)
    writeBearerError(
      res,
      renderBearerError(error, authenticatedBy.get(req)?.challenge ?? challenge),
    )
  }
}
