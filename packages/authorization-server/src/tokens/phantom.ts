import type { ServerContext } from '../context.js'
import type { TokenRecord } from '../store/store.js'
import { signAccessTokenJwt } from './access-token.js'

/**
 * The JWT form of an opaque access token, for the phantom-token pattern: signed once, on the
 * first introspection that asks for it, then stored with the token (encrypted at rest, bound to
 * the token's hash, because it is a bearer credential for the internal APIs). Later
 * introspections decrypt it: no per-call signing. Concurrent first requests share one signature.
 */
export function createPhantomTokens(ctx: ServerContext): {
  jwtFormOf(record: TokenRecord): Promise<string>
} {
  const inFlight = new Map<string, Promise<string>>()

  async function prepare(record: TokenRecord): Promise<string> {
    const jwt = await signAccessTokenJwt(ctx, record)
    const stored = await ctx.store.setTokenJwt(
      record.hash,
      ctx.encryption.encrypt(jwt, record.hash),
    )
    return ctx.encryption.decrypt(stored, record.hash)
  }

  return {
    async jwtFormOf(record) {
      if (record.jwt !== null) return ctx.encryption.decrypt(record.jwt, record.hash)
      let pending = inFlight.get(record.hash)
      if (pending === undefined) {
        pending = prepare(record).finally(() => inFlight.delete(record.hash))
        inFlight.set(record.hash, pending)
      }
      return pending
    },
  }
}
