export * from './errors.js'
export {
  createRemoteJwks,
  parseCacheControlMaxAge,
  type RemoteJwks,
  type RemoteJwksOptions,
  type RemoteJwksStatus,
} from './jwks-cache.js'
export { createLocalJwks } from './local-jwks.js'
export * from './policies/claims.js'
export { hasScopes, requireScopes } from './policies/scope.js'
export {
  type AccessTokenClaims,
  type Algorithm,
  DEFAULT_ALGORITHMS,
  type JwtHeader,
  type KeySet,
  type Logger,
  SUPPORTED_ALGORITHMS,
  type VerifiedToken,
} from './types.js'
export { createJwtValidator, type JwtValidator, type JwtValidatorOptions } from './validator.js'
