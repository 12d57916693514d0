/**
 * `@gatehouse/jwt/fastify`: bearer-token authentication for Fastify 5.
 *
 *   await app.register(async function ordersApi(api) {
 *     await api.register(jwtAuth, { validator, realm: 'orders', scopes: ['orders:read'] })
 *     api.setErrorHandler(jwtErrorHandler({ realm: 'orders' }))   // AccessDenied from policies
 *     api.get('/orders', async (request) => list(request.auth?.subject))
 *   })
 *
 * The check runs as a `preHandler` hook, after Fastify has parsed the body, so a body with an
 * `access_token` member is refused (400). The cost: schema validation (400) runs before
 * authentication, so an unauthenticated client learns whether its body fits the schema.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify'
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
  type RenderedBearerError,
  renderBearerError,
} from './bearer.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token; set by the `jwtAuth` preHandler before any route handler runs. */
    auth?: VerifiedToken
  }
}

export interface FastifyJwtAuthOptions extends BearerChallengeOptions {
  readonly validator: Pick<JwtValidator, 'validate'>
  /** Scopes every request must carry (403 insufficient_scope otherwise). */
  readonly scopes?: readonly string[]
  /** Called with every error before it is answered, for logs and audit. Must not throw. */
  readonly onError?: (error: unknown, request: FastifyRequest) => void
}

export interface FastifyErrorHandlerOptions extends BearerChallengeOptions {
  readonly onError?: (error: unknown, request: FastifyRequest) => void
}

interface AuthenticatedBy {
  readonly challenge: BearerChallengeOptions
  readonly onError: FastifyJwtAuthOptions['onError']
}

/** The hook that authenticated a request, so `requireScope` answers and reports alike. */
const authenticatedBy = new WeakMap<FastifyRequest, AuthenticatedBy>()

/**
 * The authentication hook on its own, for route-level use:
 * `api.get('/orders', { preHandler: createJwtPreHandler(options) }, handler)`.
 */
export function createJwtPreHandler(options: FastifyJwtAuthOptions): preHandlerAsyncHookHandler {
  const { validator, onError } = options
  if (typeof validator?.validate !== 'function') throw new TypeError('validator is required')
  const challenge = checkChallengeOptions(options)
  const scopes = checkScopes(options.scopes, 'jwtAuth scopes')
  const state: AuthenticatedBy = { challenge, onError }

  return async function authenticateFastifyRequest(request, reply) {
    try {
      request.auth = await authenticateRequest(
        validator,
        { rawHeaders: request.raw.rawHeaders, url: request.raw.url ?? '/', body: request.body },
        { scopes },
      )
      authenticatedBy.set(request, state)
    } catch (error) {
      notifyError(onError, error, request)
      return sendBearerError(reply, renderBearerError(error, challenge))
    }
  }
}

async function gatehouseJwtAuth(
  instance: FastifyInstance,
  options: FastifyJwtAuthOptions,
): Promise<void> {
  const authenticate = createJwtPreHandler(options)
  if (!instance.hasRequestDecorator('auth')) instance.decorateRequest('auth', undefined)
  instance.addHook('preHandler', authenticate)
}

/**
 * The plugin: every route of the instance it is registered on (and of that instance's children)
 * requires a valid token. It does not open a new encapsulation context — Fastify's documented
 * `skip-override` property, which is all `fastify-plugin` would add here — so register it inside
 * the plugin whose routes it protects.
 */
export const jwtAuth = Object.assign(gatehouseJwtAuth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@gatehouse/jwt',
})

/** Per-route scopes: `{ preHandler: requireScope('orders:write') }`, after `jwtAuth`. */
export function requireScope(...scopes: readonly string[]): preHandlerAsyncHookHandler {
  if (scopes.length === 0) throw new TypeError('requireScope needs at least one scope')
  const required = checkScopes(scopes, 'requireScope')

  return async function requireFastifyScope(request, reply) {
    const state = authenticatedBy.get(request)
    if (request.auth === undefined || state === undefined) {
      // A wiring mistake (no jwtAuth before this hook): deny, with a generic 500.
      const misuse = new TypeError('requireScope() runs only after jwtAuth()')
      return sendBearerError(reply, renderBearerError(misuse, { realm: 'unused' }))
    }
    if (!hasScopes(request.auth, ...required)) {
      const error = new InsufficientScope(required)
      notifyError(state.onError, error, request)
      return sendBearerError(reply, renderBearerError(error, state.challenge))
    }
  }
}

/**
 * For `setErrorHandler`: renders Gatehouse errors thrown by handlers — `AccessDenied` from a
 * claims policy, `InsufficientScope` from `requireScopes()` — with the right status and
 * challenge. Any other error is rethrown to the parent error handler, untouched.
 */
export function jwtErrorHandler(options: FastifyErrorHandlerOptions) {
  const challenge = checkChallengeOptions(options)
  const { onError } = options

  return function renderGatehouseError(
    error: FastifyError | GatehouseError | Error,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply {
    if (!(error instanceof GatehouseError)) throw error
    notifyError(onError, error, request)
    return sendBearerError(
      reply,
      renderBearerError(error, authenticatedBy.get(request)?.challenge ?? challenge),
    )
  }
}

function sendBearerError(reply: FastifyReply, rendered: RenderedBearerError): FastifyReply {
  // A Buffer, so Fastify sends the content-type as given (it appends a charset to strings).
  return reply.code(rendered.status).headers(rendered.headers).send(Buffer.from(rendered.body))
}
