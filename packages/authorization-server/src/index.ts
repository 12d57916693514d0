export {
  CLIENT_INPUT_FIELDS,
  type ClientChange,
  type ClientInput,
  type CreatedClient,
  checkClientInput,
  createClient,
  rotateClientSecret,
  updateClient,
} from './admin/clients.js'
export { listKeys, rotateKeys } from './admin/keys.js'
export {
  type CreatedUser,
  createUser,
  type UserChange,
  type UserInput,
  updateUser,
} from './admin/users.js'
export {
  type AuthorizationServerConfig,
  type AuthorizationServerConfigInput,
  AuthorizationServerConfigSchema,
  parseAuthorizationServerConfig,
  SecretReference,
} from './config/schema.js'
export {
  type AuthorizationServerSecrets,
  ConfigError,
  resolveSecrets,
  type SecretSources,
} from './config/secrets.js'
export { type ConfigWarning, configWarnings } from './config/warnings.js'
export {
  type AccessLogger,
  type AuthorizationServer,
  type AuthorizationServerDeps,
  createAuthorizationServer,
} from './create-server.js'
export * from './errors.js'
export {
  createRedisRevocationBus,
  type RedisRevocationBus,
  type RedisRevocationBusOptions,
} from './events/redis-revocation-bus.js'
export {
  createInProcessRevocationBus,
  type RevocationBus,
  type RevocationEvent,
  type RevocationListener,
} from './events/revocation-bus.js'
export { createKeyEncryption } from './keys/key-encryption.js'
export {
  KeyRotationTooEarly,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from './keys/signing-keys.js'
export {
  ConcurrentSigningKeyChange,
  createPostgresStore,
  type PostgresStoreOptions,
} from './store/postgres.js'
export { migratePostgres, POSTGRES_MIGRATIONS } from './store/postgres-migrations.js'
export { createSqliteStore, migrateSqlite, type SqliteStoreOptions } from './store/sqlite.js'
export { SQLITE_MIGRATIONS } from './store/sqlite-migrations.js'
export type * from './store/store.js'
export {
  createRedisSplitTokenStore,
  type RedisSplitTokenStore,
  type RedisSplitTokenStoreOptions,
} from './tokens/redis-split-tokens.js'
export { createInMemorySplitTokenStore, type SplitTokenStore } from './tokens/split-tokens.js'
export { tokenHash } from './tokens/token-hash.js'
