import type { GatewayState } from './types.js'

/**
 * A source of revocation events, shaped like the authorization server's revocation bus
 * (`server.events.revocations`): structural, so the gateway does not depend on that package.
 */
export interface RevocationSource {
  subscribe(
    listener: (event: { readonly tokenHash?: string; readonly jti?: string }) => void,
  ): () => void
}

/**
 * The embedded-mode channel: the authorization server and the gateway in one process, the
 * server's revocation bus feeding the gateway's state, so a revoked token's cached JWT is evicted
 * before the revocation response is even sent. Returns the unsubscribe function.
 */
export function connectRevocationSource(source: RevocationSource, state: GatewayState): () => void {
  return source.subscribe(function forwardRevocation(event) {
    void state.revocations.publish({
      ...(event.tokenHash === undefined ? {} : { tokenHash: event.tokenHash }),
      ...(event.jti === undefined ? {} : { tokenId: event.jti }),
    })
  })
}
