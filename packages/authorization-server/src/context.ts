import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuditTrail } from './audit/events.js'
import type { AuthorizationServerConfig } from './config/schema.js'
import type { RevocationBus } from './events/revocation-bus.js'
import type { KeyEncryption } from './keys/key-encryption.js'
import type { KeyRing } from './keys/signing-keys.js'
import type { AuthorizationServerStore } from './store/store.js'
import type { SplitTokenStore } from './tokens/split-tokens.js'

/** The endpoint URLs, derived once from the issuer (RFC 8414 metadata uses the same values). */
export interface EndpointUrls {
  readonly authorization: string
  readonly token: string
  readonly introspection: string
  readonly revocation: string
  readonly jwks: string
  readonly userinfo: string
  readonly pushedAuthorization: string
  readonly endSession: string
}

export function endpointUrls(issuer: string): EndpointUrls {
  return {
    authorization: `${issuer}/authorize`,
    token: `${issuer}/token`,
    introspection: `${issuer}/introspect`,
    revocation: `${issuer}/revoke`,
    jwks: `${issuer}/jwks`,
    userinfo: `${issuer}/userinfo`,
    pushedAuthorization: `${issuer}/par`,
    endSession: `${issuer}/logout`,
  }
}

/** Everything an endpoint needs, built once at start-up and shared by all requests. */
export interface ServerContext {
  readonly config: AuthorizationServerConfig
  readonly store: AuthorizationServerStore
  readonly keys: KeyRing
  readonly encryption: KeyEncryption
  readonly audit: AuditTrail
  readonly revocations: RevocationBus
  readonly splitTokens: SplitTokenStore
  readonly urls: EndpointUrls
  readonly now: () => number
  /** Internal failures that must not fail the request (a revocation bus down, a sink failing). */
  readonly reportError: (error: unknown) => void
  /** The scopes the server knows: the configured ones plus the built-in OpenID ones. */
  readonly knownScopes: ReadonlySet<string>
}

/** Per request: the raw exchange plus what the server assigned to it. */
export interface RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  readonly requestId: string
  readonly ip: string
}
