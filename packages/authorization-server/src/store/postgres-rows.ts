import type {
  AuthorizationCodeRecord,
  ClientRecord,
  LoginSessionRecord,
  PushedRequestRecord,
  SigningKeyRecord,
  TokenRecord,
  UserRecord,
} from './store.js'

/**
 * Row mapping of the PostgreSQL driver. `pg` returns BIGINT as a string (it may not fit a JS
 * number in general; epoch milliseconds always do) and JSONB already parsed. Structured values are
 * sent as JSON text: `pg` would otherwise turn a JS array into a PostgreSQL array, not JSON.
 */
export type Row = Record<string, unknown>

export const json = (value: unknown): string => JSON.stringify(value)
export const nullableNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)
const nullableString = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value)

/** Column names and values of one record, in one order, so INSERT and UPDATE cannot drift. */
export interface RowValues {
  readonly names: readonly string[]
  readonly values: readonly unknown[]
}

function rowValues(row: Row): RowValues {
  return { names: Object.keys(row), values: Object.values(row) }
}

export function clientFromRow(row: Row): ClientRecord {
  return {
    clientId: String(row.client_id),
    name: String(row.name),
    secretHash: nullableString(row.secret_hash),
    tokenEndpointAuthMethod:
      row.token_endpoint_auth_method as ClientRecord['tokenEndpointAuthMethod'],
    jwks: (row.jwks ?? null) as ClientRecord['jwks'],
    redirectUris: row.redirect_uris as string[],
    postLogoutRedirectUris: row.post_logout_redirect_uris as string[],
    grantTypes: row.grant_types as ClientRecord['grantTypes'],
    scopes: row.scopes as string[],
    audiences: row.audiences as string[],
    tokenFormat: row.token_format as ClientRecord['tokenFormat'],
    firstParty: row.first_party === true,
    requirePushedAuthorizationRequests: row.require_par === true,
    accessTokenTtlSeconds: nullableNumber(row.access_token_ttl_seconds),
    createdAt: Number(row.created_at),
  }
}

export function clientValues(client: ClientRecord): RowValues {
  return rowValues({
    client_id: client.clientId,
    name: client.name,
    secret_hash: client.secretHash,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    jwks: client.jwks === null ? null : json(client.jwks),
    redirect_uris: json(client.redirectUris),
    post_logout_redirect_uris: json(client.postLogoutRedirectUris),
    grant_types: json(client.grantTypes),
    scopes: json(client.scopes),
    audiences: json(client.audiences),
    token_format: client.tokenFormat,
    first_party: client.firstParty,
    require_par: client.requirePushedAuthorizationRequests,
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    created_at: client.createdAt,
  })
}

export function keyFromRow(row: Row): SigningKeyRecord {
  return {
    kid: String(row.kid),
    alg: String(row.alg),
    publicJwk: row.public_jwk as Record<string, unknown>,
    encryptedPrivateJwk: String(row.encrypted_private_jwk),
    state: row.state as SigningKeyRecord['state'],
    createdAt: Number(row.created_at),
    activatedAt: nullableNumber(row.activated_at),
    retiredAt: nullableNumber(row.retired_at),
    publishUntil: nullableNumber(row.publish_until),
  }
}

export function keyValues(key: SigningKeyRecord): RowValues {
  return rowValues({
    kid: key.kid,
    alg: key.alg,
    public_jwk: json(key.publicJwk),
    encrypted_private_jwk: key.encryptedPrivateJwk,
    state: key.state,
    created_at: key.createdAt,
    activated_at: key.activatedAt,
    retired_at: key.retiredAt,
    publish_until: key.publishUntil,
  })
}

export function tokenFromRow(row: Row): TokenRecord {
  return {
    hash: String(row.hash),
    jti: String(row.jti),
    kind: row.kind as TokenRecord['kind'],
    clientId: String(row.client_id),
    subject: String(row.subject),
    scope: String(row.scope),
    audience: row.audience as string[],
    claims: row.claims as Record<string, unknown>,
    format: row.format as TokenRecord['format'],
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    revokedAt: nullableNumber(row.revoked_at),
    familyId: nullableString(row.family_id),
    codeHash: nullableString(row.code_hash),
    usedAt: nullableNumber(row.used_at),
    jwt: nullableString(row.jwt),
  }
}

export function tokenValues(token: TokenRecord): RowValues {
  return rowValues({
    hash: token.hash,
    jti: token.jti,
    kind: token.kind,
    client_id: token.clientId,
    subject: token.subject,
    scope: token.scope,
    audience: json(token.audience),
    claims: json(token.claims),
    format: token.format,
    issued_at: token.issuedAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
    family_id: token.familyId,
    code_hash: token.codeHash,
    used_at: token.usedAt,
    jwt: token.jwt,
  })
}

export function codeFromRow(row: Row): AuthorizationCodeRecord {
  return {
    hash: String(row.hash),
    clientId: String(row.client_id),
    subject: String(row.subject),
    redirectUri: String(row.redirect_uri),
    scope: String(row.scope),
    audience: row.audience as string[],
    codeChallenge: String(row.code_challenge),
    nonce: nullableString(row.nonce),
    authTime: Number(row.auth_time),
    claims: row.claims as Record<string, unknown>,
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    usedAt: nullableNumber(row.used_at),
  }
}

export function codeValues(code: AuthorizationCodeRecord): RowValues {
  return rowValues({
    hash: code.hash,
    client_id: code.clientId,
    subject: code.subject,
    redirect_uri: code.redirectUri,
    scope: code.scope,
    audience: json(code.audience),
    code_challenge: code.codeChallenge,
    nonce: code.nonce,
    auth_time: code.authTime,
    claims: json(code.claims),
    issued_at: code.issuedAt,
    expires_at: code.expiresAt,
    used_at: code.usedAt,
  })
}

export function userFromRow(row: Row): UserRecord {
  return {
    id: String(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    encryptedTotpSecret: nullableString(row.encrypted_totp_secret),
    lastTotpStep: nullableNumber(row.last_totp_step),
    claims: row.claims as Record<string, unknown>,
    failedLogins: Number(row.failed_logins),
    lockedUntil: nullableNumber(row.locked_until),
    disabled: row.disabled === true,
    createdAt: Number(row.created_at),
  }
}

export function userValues(user: UserRecord): RowValues {
  return rowValues({
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    encrypted_totp_secret: user.encryptedTotpSecret,
    last_totp_step: user.lastTotpStep,
    claims: json(user.claims),
    failed_logins: user.failedLogins,
    locked_until: user.lockedUntil,
    disabled: user.disabled,
    created_at: user.createdAt,
  })
}

export function sessionFromRow(row: Row): LoginSessionRecord {
  return {
    hash: String(row.hash),
    userId: String(row.user_id),
    authTime: Number(row.auth_time),
    amr: row.amr as string[],
    expiresAt: Number(row.expires_at),
  }
}

export function pushedFromRow(row: Row): PushedRequestRecord {
  return {
    hash: String(row.hash),
    clientId: String(row.client_id),
    parameters: row.parameters as Record<string, string>,
    expiresAt: Number(row.expires_at),
  }
}

/** `INSERT INTO table (a, b) VALUES ($1, $2)` for one record's columns. */
export function insertSql(table: string, row: RowValues): string {
  const placeholders = row.names.map((_, index) => `$${index + 1}`)
  return `INSERT INTO ${table} (${row.names.join(', ')}) VALUES (${placeholders.join(', ')})`
}

/** `UPDATE table SET b = $2 WHERE a = $1` with the first column as the key. */
export function updateSql(table: string, row: RowValues): string {
  const sets = row.names.slice(1).map((name, index) => `${name} = $${index + 2}`)
  return `UPDATE ${table} SET ${sets.join(', ')} WHERE ${row.names[0]} = $1`
}

// Column lists are derived from the row mapping of an empty record of each table.
export const EMPTY_TOKEN: TokenRecord = {
  hash: '',
  jti: '',
  kind: 'access_token',
  clientId: '',
  subject: '',
  scope: '',
  audience: [],
  claims: {},
  format: 'opaque',
  issuedAt: 0,
  expiresAt: 0,
  revokedAt: null,
  familyId: null,
  codeHash: null,
  usedAt: null,
  jwt: null,
}
export const EMPTY_KEY = {
  kid: '',
  alg: '',
  publicJwk: {},
  encryptedPrivateJwk: '',
  state: 'next',
  createdAt: 0,
  activatedAt: null,
  retiredAt: null,
  publishUntil: null,
} as const
export const EMPTY_USER = {
  id: '',
  username: '',
  passwordHash: '',
  encryptedTotpSecret: null,
  lastTotpStep: null,
  claims: {},
  failedLogins: 0,
  lockedUntil: null,
  disabled: false,
  createdAt: 0,
} as const
export const EMPTY_CODE = {
  hash: '',
  clientId: '',
  subject: '',
  redirectUri: '',
  scope: '',
  audience: [],
  codeChallenge: '',
  nonce: null,
  authTime: 0,
  claims: {},
  issuedAt: 0,
  expiresAt: 0,
  usedAt: null,
} as const
export const EMPTY_CLIENT = {
  clientId: '',
  name: '',
  secretHash: null,
  tokenEndpointAuthMethod: 'none',
  jwks: null,
  redirectUris: [],
  postLogoutRedirectUris: [],
  grantTypes: [],
  scopes: [],
  audiences: [],
  tokenFormat: 'opaque',
  firstParty: false,
  requirePushedAuthorizationRequests: false,
  accessTokenTtlSeconds: null,
  createdAt: 0,
} as const
