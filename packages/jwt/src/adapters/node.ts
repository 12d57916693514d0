/**
 * `@gatehouse/jwt/node`: bearer-token authentication for plain `node:http` servers.
 *
 *   const authenticate = createNodeAuthenticator({ validator, realm: 'orders', scopes: ['orders:read'] })
 *   createServer(async (req, res) => {
 *     const token = await authenticate(req, res)
 *     if (token === undefined) return // already answered 400/401/403/503
 *     …
 *   })
 *
 * A node:http handler receives the body unread, and this adapter never reads it: a token sent in
 * the body is therefore never seen and never accepted. Tokens in the query string are refused.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
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

export interface NodeAuthenticatorOptions extends BearerChallengeOptions {
  readonly validator: Pick<JwtValidator, 'validate'>
  /** Scopes every request must carry (403 insufficient_scope otherwise). */
  readonly scopes?: readonly string[]
  /**
   * Called with every error before it is answered, for logs, metrics and audit (switch on
   * `error.reason`). It must not throw; if it does, the error is ignored. Never log the token.
   */
  readonly onError?: (error: unknown, req: IncomingMessage) => void
}

export type NodeAuthenticator = (
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<VerifiedToken | undefined>

const verifiedTokens = new WeakMap<IncomingMessage, VerifiedToken>()

/**
 * Returns `authenticate(req, res)`: resolves the verified token, or `undefined` after it has
 * answered the request with the RFC 6750 challenge and an RFC 9457 problem document.
 */
export function createNodeAuthenticator(options: NodeAuthenticatorOptions): NodeAuthenticator {
  const { validator, onError } = options
  if (typeof validator?.validate !== 'function') throw new TypeError('validator is required')
  const challenge = checkChallengeOptions(options)
  const scopes = checkScopes(options.scopes, 'createNodeAuthenticator scopes')

  return async function authenticateNodeRequest(req, res) {
    try {
      const token = await authenticateRequest(
        validator,
        { rawHeaders: req.rawHeaders, url: req.url ?? '/' },
        { scopes },
      )
      verifiedTokens.set(req, token)
      return token
    } catch (error) {
      notifyError(onError, error, req)
      writeBearerError(res, renderBearerError(error, challenge))
      return undefined
    }
  }
}

/** The token `createNodeAuthenticator` verified for this request, if any. */
export function getVerifiedToken(req: IncomingMessage): VerifiedToken | undefined {
  return verifiedTokens.get(req)
}

/**
 * Answers a request with a Gatehouse error, e.g. `AccessDenied` from a claims policy checked in
 * the handler: the RFC 6750 challenge where one applies, an RFC 9457 body, never a stack.
 */
export function sendBearerError(
  res: ServerResponse,
  error: unknown,
  options: BearerChallengeOptions,
): void {
  writeBearerError(res, renderBearerError(error, options))
}
