import type { RequestContext, ServerContext } from '../context.js'
import { sendText } from '../http/respond.js'

/**
 * GET /jwks: the published public keys (next, active and still-needed retired ones). Cacheable
 * for `keys.jwksMaxAgeSeconds`, which is why the next key is published at least that long before
 * it signs.
 */
export function createJwksEndpoint(ctx: ServerContext): (rc: RequestContext) => Promise<void> {
  const maxAge = ctx.config.keys.jwksMaxAgeSeconds
  return async function jwksEndpoint(rc) {
    const jwks = await ctx.keys.jwks()
    sendText(rc.res, 200, 'application/jwk-set+json', JSON.stringify(jwks), {
      'cache-control': `public, max-age=${maxAge}`,
      // Public keys: browser-based verifiers on any origin may read them (no credentials).
      'access-control-allow-origin': '*',
      pragma: '',
    })
  }
}
