import type { Principal } from '../types.js'

const ANONYMOUS: Principal = Object.freeze({
  subject: undefined,
  clientId: undefined,
  scopes: Object.freeze(new Set<string>()),
  jwt: null,
  tokenId: undefined,
  tokenHash: undefined,
})

/** `public`: no authentication, chosen explicitly in the config. Any Authorization header is dropped by `transform`. */
export function createPublicAuthenticator() {
  return async function authenticatePublic(): Promise<Principal> {
    return ANONYMOUS
  }
}
