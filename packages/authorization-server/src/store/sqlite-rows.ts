import type {
  AuthorizationCodeRecord,
  ClientRecord,
  PushedRequestRecord,
  SigningKeyRecord,
  TokenRecord,
  UserRecord,
} from './store.js'

/** Row ⇄ record mappings of the SQLite driver (JSON columns, 0/1 booleans, nullable numbers). */
export type Row = Record<string, unknown>

export const json = (value: unknown): string => JSON.stringify(value)
export const parse = <T>(value: unknown): T => JSON.parse(String(value)) as T
export const nullableNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value)
export const nullableString = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value)

export function clientFromRow(row: Row): ClientRecord {
  return {
    clientId: String(row.client_id),
    name: String(row.name),
    secretHash: nullableString(row.secret_hash),
    tokenEndpointAuthMethod:
      row.token_endpoint_auth_method as ClientRecord['tokenEndpointAuthMethod'],
    jwks: row.jwks === null ? null : parse(row.jwks),
    redirectUris: parse(row.redirect_uris),
    postLogoutRedirectUris: parse(row.post_logout_redirect_uris),
    grantTypes: parse(row.grant_types),
    scopes: parse(row.scopes),
    audiences: parse(row.audiences),
    tokenFormat: row.token_format as ClientRecord['tokenFormat'],
    firstParty: row.first_party === 1,
    requirePushedAuthorizationRequests: row.require_par === 1,
    accessTokenTtlSeconds: nullableNumber(row.access_token_ttl_seconds),
    createdAt: Number(row.created_at),
  }
}

export function clientToRow(client: ClientRecord): Row {
  return {
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
    first_party: client.firstParty ? 1 : 0,
    require_par: client.requirePushedAuthorizationRequests ? 1 : 0,
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    created_at: client.createdAt,
  }
}

export function keyFromRow(row: Row): SigningKeyRecord {
  return {
    kid: String(row.kid),
    alg: String(row.alg),
    publicJwk: parse(row.public_jwk),
    encryptedPrivateJwk: String(row.encrypted_private_jwk),
    state: row.state as SigningKeyRecord['state'],
    createdAt: Number(row.created_at),
    activatedAt: nullableNumber(row.activated_at),
    retiredAt: nullableNumber(row.retired_at),
    publishUntil: nullableNumber(row.publish_until),
  }
}

export function keyToRow(key: SigningKeyRecord): Row {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: json(key.publicJwk),
    encrypted_private_jwk: key.encryptedPrivateJwk,
    state: key.state,
    created_at: key.createdAt,
    activated_at: key.activatedAt,
    retired_at: key.retiredAt,
    publish_until: key.publishUntil,
  }
}

export function tokenFromRow(row: Row): TokenRecord {
  return {
    hash: String(row.hash),
    jti: String(row.jti),
    kind: row.kind as TokenRecord['kind'],
    clientId: String(row.client_id),
    subject: String(row.subject),
    scope: String(row.scope),
    audience: parse(row.audience),
    claims: parse(row.claims),
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

export function tokenToRow(token: TokenRecord): Row {
  return {
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
  }
}

export function codeFromRow(row: Row): AuthorizationCodeRecord {
  return {
    hash: String(row.hash),
    clientId: String(row.client_id),
    subject: String(row.subject),
    redirectUri: String(row.redirect_uri),
    scope: String(row.scope),
    audience: parse(row.audience),
    codeChallenge: String(row.code_challenge),
    nonce: nullableString(row.nonce),
    authTime: Number(row.auth_time),
    claims: parse(row.claims),
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    usedAt: nullableNumber(row.used_at),
  }
}

export function pushedFromRow(row: Row): PushedRequestRecord {
  return {
    hash: String(row.hash),
    clientId: String(row.client_id),
    parameters: parse<Record<string, string>>(row.parameters),
    expiresAt: Number(row.expires_at),
  }
}

export function userFromRow(row: Row): UserRecord {
  return {
    id: String(row.id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    encryptedTotpSecret: nullableString(row.encrypted_totp_secret),
    lastTotpStep: nullableNumber(row.last_totp_step),
    claims: parse(row.claims),
    failedLogins: Number(row.failed_logins),
    lockedUntil: nullableNumber(row.locked_until),
    disabled: row.disabled === 1,
    createdAt: Number(row.created_at),
  }
}

export function userToRow(user: UserRecord): Row {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    encrypted_totp_secret: user.encryptedTotpSecret,
    last_totp_step: user.lastTotpStep,
    claims: json(user.claims),
    failed_logins: user.failedLogins,
    locked_until: user.lockedUntil,
    disabled: user.disabled ? 1 : 0,
    created_at: user.createdAt,
  }
}

export function columns(row: Row): { names: string; values: string; sets: string } {
  const keys = Object.keys(row)
  return {
    names: keys.join(', '),
    values: keys.map((key) => `@${key}`).join(', '),
    sets: keys.map((key) => `${key} = @${key}`).join(', '),
  }
}

// Column lists are derived from one mapping per table, so the INSERT and UPDATE statements can
// never drift from the row shape.
export const sampleClient: ClientRecord = {
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
}
export const sampleToken: TokenRecord = {
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
export const sampleUser: UserRecord = {
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
}
export const sampleKey: SigningKeyRecord = {
  kid: '',
  alg: '',
  publicJwk: {},
  encryptedPrivateJwk: '',
  state: 'next',
  createdAt: 0,
  activatedAt: null,
  retiredAt: null,
  publishUntil: null,
}
