export {
  parseTokenHandlerConfig,
  type SecretReference,
  type TokenHandlerConfig,
  type TokenHandlerConfigInput,
  TokenHandlerConfigSchema,
} from './config/schema.js'
export {
  ConfigError,
  decodeCookieKey,
  resolveTokenHandlerSecrets,
  type SecretSources,
  type TokenHandlerSecrets,
} from './config/secrets.js'
export {
  COOKIE_FORMAT_VERSION,
  type CookieKey,
  type CookieSealer,
  createCookieSealer,
} from './core/cookie-crypto.js'
export {
  type CookieTokenReader,
  type CookieTokenReaderOptions,
  type CookieTokenRequest,
  cookieTokenReaderOptions,
  createCookieTokenReader,
} from './core/cookie-token.js'
export {
  type CookieKind,
  type CookieSettings,
  type CookieSpec,
  createCookieJar,
} from './core/cookies.js'
export * from './errors.js'
export {
  createTokenHandler,
  type RequestOutcome,
  type TokenHandler,
  type TokenHandlerDeps,
} from './http/create-token-handler.js'
