import type { AuditEvent, AuditEventType } from '@gatehouse/audit'

/**
 * The one storage interface of the authorization server. Every method is async so a networked
 * driver (PostgreSQL, issue #7) implements the same contract; nothing outside a driver may assume
 * SQLite. Times are milliseconds since the epoch. Secrets and tokens are never stored: only their
 * SHA-256 hashes (see `tokens/token-hash.ts`).
 *
 * Methods that change several rows for one grant (`redeemAuthorizationCode`,
 * `rotateRefreshToken`, `revokeTokenFamily`) are atomic in every driver: two concurrent uses of
 * one code or refresh token yield exactly one success.
 */

export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'none'

export type GrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | 'urn:ietf:params:oauth:grant-type:token-exchange'

/**
 * `opaque`: a random reference token; `jwt`: an RFC 9068 JWT; `split`: the client holds only the
 * JWT's signature, and the header and payload go to the split-token store for the gateway.
 */
export type TokenFormat = 'opaque' | 'jwt' | 'split'

export interface ClientRecord {
  readonly clientId: string
  readonly name: string
  /** SHA-256 (base64url) of the client secret; null for public and private_key_jwt clients. */
  readonly secretHash: string | null
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod
  /** Public keys (JWK Set) for private_key_jwt. */
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | null
  readonly redirectUris: readonly string[]
  readonly postLogoutRedirectUris: readonly string[]
  readonly grantTypes: readonly GrantType[]
  /** The scopes this client may be granted. */
  readonly scopes: readonly string[]
  /** The audiences (RFC 8707 resources) this client may ask for; the first is the default. */
  readonly audiences: readonly string[]
  readonly tokenFormat: TokenFormat
  /** First-party clients skip the consent page. */
  readonly firstParty: boolean
  /** RFC 9126: authorization requests must be pushed first. */
  readonly requirePushedAuthorizationRequests: boolean
  readonly accessTokenTtlSeconds: number | null
  readonly createdAt: number
}

export type SigningKeyState = 'next' | 'active' | 'retired'

export interface SigningKeyRecord {
  readonly kid: string
  readonly alg: string
  readonly publicJwk: Record<string, unknown>
  /** The private JWK, encrypted with AES-256-GCM (see `keys/key-encryption.ts`). */
  readonly encryptedPrivateJwk: string
  readonly state: SigningKeyState
  readonly createdAt: number
  readonly activatedAt: number | null
  readonly retiredAt: number | null
  /** A retired key stays in the JWKS until this time: after the last token it signed expired. */
  readonly publishUntil: number | null
}

export type TokenKind = 'access_token' | 'refresh_token'

export interface TokenRecord {
  /** SHA-256 (base64url) of the token: the lookup key. */
  readonly hash: string
  readonly jti: string
  readonly kind: TokenKind
  readonly clientId: string
  readonly subject: string
  readonly scope: string
  readonly audience: readonly string[]
  /** The claims the granted scopes released (access tokens) or the grant context (refresh). */
  readonly claims: Record<string, unknown>
  readonly format: TokenFormat
  readonly issuedAt: number
  readonly expiresAt: number
  readonly revokedAt: number | null
  /** Refresh-token family (RFC 9700 §4.14); access tokens carry their family too. */
  readonly familyId: string | null
  /** The authorization code this token descends from, so a code replay can revoke it. */
  readonly codeHash: string | null
  /** Refresh tokens: set when rotated; a second use means reuse. */
  readonly usedAt: number | null
  /** The signed JWT form of an opaque access token (phantom-token pattern), once prepared. */
  readonly jwt: string | null
}

export interface AuthorizationCodeRecord {
  readonly hash: string
  readonly clientId: string
  readonly subject: string
  readonly redirectUri: string
  readonly scope: string
  readonly audience: readonly string[]
  readonly codeChallenge: string
  readonly nonce: string | null
  readonly authTime: number
  readonly claims: Record<string, unknown>
  readonly issuedAt: number
  readonly expiresAt: number
  readonly usedAt: number | null
}

export interface UserRecord {
  readonly id: string
  readonly username: string
  readonly passwordHash: string
  /** Encrypted TOTP secret (same envelope as signing keys), or null when MFA is off. */
  readonly encryptedTotpSecret: string | null
  /** The last TOTP time step accepted, so a code is never accepted twice. */
  readonly lastTotpStep: number | null
  readonly claims: Record<string, unknown>
  readonly failedLogins: number
  readonly lockedUntil: number | null
  readonly disabled: boolean
  readonly createdAt: number
}

export interface LoginSessionRecord {
  readonly hash: string
  readonly userId: string
  readonly authTime: number
  readonly amr: readonly string[]
  readonly expiresAt: number
}

export interface PushedRequestRecord {
  readonly hash: string
  readonly clientId: string
  readonly parameters: Record<string, string>
  readonly expiresAt: number
}

export interface AuditQuery {
  readonly type?: AuditEventType
  readonly clientId?: string
  readonly subject?: string
  readonly tokenId?: string
  readonly requestId?: string
  readonly since?: number
  readonly until?: number
  /** Newest first; default 100, at most 1000. */
  readonly limit?: number
}

export type RedeemCodeResult =
  | { readonly outcome: 'redeemed'; readonly code: AuthorizationCodeRecord }
  | { readonly outcome: 'replayed'; readonly code: AuthorizationCodeRecord }
  | { readonly outcome: 'not_found' }

export type RotateRefreshResult =
  | { readonly outcome: 'rotated'; readonly previous: TokenRecord }
  | { readonly outcome: 'reused'; readonly previous: TokenRecord }
  | { readonly outcome: 'not_found' }

export interface SweepResult {
  readonly tokens: number
  readonly codes: number
  readonly assertions: number
  readonly sessions: number
  readonly pushedRequests: number
  readonly keys: number
}

export interface AuthorizationServerStore {
  // clients
  createClient(client: ClientRecord): Promise<void>
  getClient(clientId: string): Promise<ClientRecord | null>
  listClients(): Promise<ClientRecord[]>
  updateClient(client: ClientRecord): Promise<boolean>
  deleteClient(clientId: string): Promise<boolean>

  // signing keys
  listSigningKeys(): Promise<SigningKeyRecord[]>
  /** Applies a rotation atomically: inserts `created` and updates the states of `updated`. */
  saveSigningKeys(change: {
    readonly created: readonly SigningKeyRecord[]
    readonly updated: readonly SigningKeyRecord[]
  }): Promise<void>

  // tokens
  insertToken(token: TokenRecord): Promise<void>
  getTokenByHash(hash: string): Promise<TokenRecord | null>
  getTokenByJti(jti: string): Promise<TokenRecord | null>
  /** Stores the JWT form of an opaque access token once; returns the stored form (first wins). */
  setTokenJwt(hash: string, jwt: string): Promise<string>
  /** Revokes one token; returns the record as it was, or null when absent or already revoked. */
  revokeToken(hash: string, now: number): Promise<TokenRecord | null>
  /** Revokes every token of a refresh family; returns the tokens revoked. */
  revokeTokenFamily(familyId: string, now: number): Promise<TokenRecord[]>
  /** Revokes every token issued from an authorization code; returns the tokens revoked. */
  revokeTokensFromCode(codeHash: string, now: number): Promise<TokenRecord[]>
  /**
   * Atomically marks the refresh token `hash` used and inserts its successors. When it was
   * already used (reuse) nothing is inserted and the result is `reused`.
   */
  rotateRefreshToken(
    hash: string,
    successors: readonly TokenRecord[],
    now: number,
  ): Promise<RotateRefreshResult>

  // authorization codes
  insertAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>
  getAuthorizationCode(hash: string): Promise<AuthorizationCodeRecord | null>
  /** Atomically marks the code used; a second redemption answers `replayed`. */
  redeemAuthorizationCode(hash: string, now: number): Promise<RedeemCodeResult>

  // private_key_jwt assertion replay protection (RFC 7523 §3 item 7)
  /** Records a (client, jti) pair until `expiresAt`; false when it was already recorded. */
  recordAssertionJti(clientId: string, jti: string, expiresAt: number): Promise<boolean>

  // users, sessions, consents, pushed requests
  createUser(user: UserRecord): Promise<void>
  getUserById(id: string): Promise<UserRecord | null>
  getUserByUsername(username: string): Promise<UserRecord | null>
  listUsers(): Promise<UserRecord[]>
  updateUser(user: UserRecord): Promise<boolean>
  deleteUser(id: string): Promise<boolean>
  /**
   * Atomically counts a failed login and locks the account until `lockUntil` once `maxFailures`
   * is reached. The count restarts after a lock has expired.
   */
  recordFailedLogin(
    userId: string,
    maxFailures: number,
    lockUntil: number,
    now: number,
  ): Promise<{ failedLogins: number; lockedUntil: number | null }>
  /** Resets the failure counter and remembers the accepted TOTP step. */
  recordSuccessfulLogin(userId: string, totpStep: number | null): Promise<void>

  insertLoginSession(session: LoginSessionRecord): Promise<void>
  getLoginSession(hash: string, now: number): Promise<LoginSessionRecord | null>
  deleteLoginSession(hash: string): Promise<void>

  getConsentedScopes(userId: string, clientId: string): Promise<string[]>
  saveConsent(userId: string, clientId: string, scopes: readonly string[]): Promise<void>

  /** Pushed authorization requests (RFC 9126) and pending login/consent interactions. */
  insertPushedRequest(request: PushedRequestRecord): Promise<void>
  getPushedRequest(hash: string, now: number): Promise<PushedRequestRecord | null>
  /** Replaces the parameters of a pending request (an interaction moving to its next step). */
  updatePushedRequest(request: PushedRequestRecord): Promise<boolean>
  /** Returns and deletes the request (single use); null when absent or expired. */
  takePushedRequest(hash: string, now: number): Promise<PushedRequestRecord | null>

  // audit trail
  appendAuditEvent(event: AuditEvent): Promise<void>
  queryAuditEvents(query: AuditQuery): Promise<AuditEvent[]>

  /** Deletes rows that can no longer matter: expired tokens, codes, assertions, sessions, keys. */
  sweepExpired(now: number): Promise<SweepResult>
  close(): Promise<void>
}
