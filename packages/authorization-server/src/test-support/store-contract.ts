/**
 * The storage-interface suite: every driver (SQLite now, PostgreSQL in issue #7) runs it.
 * Not part of the published package.
 */
import { createAuditEvent } from '@gatehouse/audit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type {
  AuthorizationCodeRecord,
  AuthorizationServerStore,
  ClientRecord,
  TokenRecord,
  UserRecord,
} from '../store/store.js'

export const T0 = Date.parse('2026-01-01T00:00:00Z')

export function sampleClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: 'client-1',
    name: 'Client one',
    secretHash: 'hash',
    tokenEndpointAuthMethod: 'client_secret_basic',
    jwks: null,
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['client_credentials'],
    scopes: ['orders:read'],
    audiences: ['https://api.example/orders'],
    tokenFormat: 'opaque',
    firstParty: false,
    requirePushedAuthorizationRequests: false,
    accessTokenTtlSeconds: null,
    createdAt: T0,
    ...overrides,
  }
}

export function sampleToken(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    hash: 'h1',
    jti: 'jti-1',
    kind: 'access_token',
    clientId: 'client-1',
    subject: 'client-1',
    scope: 'orders:read',
    audience: ['https://api.example/orders'],
    claims: {},
    format: 'opaque',
    issuedAt: T0,
    expiresAt: T0 + 60_000,
    revokedAt: null,
    familyId: null,
    codeHash: null,
    usedAt: null,
    jwt: null,
    ...overrides,
  }
}

export function sampleCode(
  overrides: Partial<AuthorizationCodeRecord> = {},
): AuthorizationCodeRecord {
  return {
    hash: 'c1',
    clientId: 'client-1',
    subject: 'user-1',
    redirectUri: 'https://app.example/cb',
    scope: 'openid',
    audience: ['https://api.example/orders'],
    codeChallenge: 'x',
    nonce: null,
    authTime: T0,
    claims: {},
    issuedAt: T0,
    expiresAt: T0 + 60_000,
    usedAt: null,
    ...overrides,
  }
}

export function sampleUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: 'user-1',
    username: 'alice',
    passwordHash: 'scrypt$...',
    encryptedTotpSecret: null,
    lastTotpStep: null,
    claims: { customer_id: 'c-1' },
    failedLogins: 0,
    lockedUntil: null,
    disabled: false,
    createdAt: T0,
    ...overrides,
  }
}

export function describeStoreContract(
  driver: string,
  open: () => Promise<AuthorizationServerStore>,
): void {
  describe(`store contract: ${driver}`, () => {
    let store: AuthorizationServerStore
    beforeEach(async () => {
      store = await open()
    })
    afterEach(async () => {
      await store.close()
    })

    it('creates, reads, updates and deletes clients', async () => {
      await store.createClient(sampleClient())
      await expect(store.getClient('client-1')).resolves.toEqual(sampleClient())
      await expect(store.createClient(sampleClient())).rejects.toThrow()
      expect(await store.updateClient(sampleClient({ scopes: ['a', 'b'], firstParty: true }))).toBe(
        true,
      )
      expect((await store.getClient('client-1'))?.scopes).toEqual(['a', 'b'])
      expect(await store.listClients()).toHaveLength(1)
      expect(await store.deleteClient('client-1')).toBe(true)
      await expect(store.getClient('client-1')).resolves.toBeNull()
    })

    it('finds tokens by hash and jti, and stores the JWT form only once', async () => {
      await store.insertToken(sampleToken())
      await expect(store.getTokenByHash('h1')).resolves.toEqual(sampleToken())
      expect((await store.getTokenByJti('jti-1'))?.hash).toBe('h1')
      await expect(store.getTokenByHash('nope')).resolves.toBeNull()
      expect(await store.setTokenJwt('h1', 'first')).toBe('first')
      expect(await store.setTokenJwt('h1', 'second')).toBe('first')
    })

    it('revokes a token once', async () => {
      await store.insertToken(sampleToken())
      expect((await store.revokeToken('h1', T0 + 1))?.jti).toBe('jti-1')
      await expect(store.revokeToken('h1', T0 + 2)).resolves.toBeNull()
      expect((await store.getTokenByHash('h1'))?.revokedAt).toBe(T0 + 1)
    })

    it('rotates a refresh token once and reports reuse without inserting successors', async () => {
      const refresh = sampleToken({ hash: 'r1', jti: 'r1', kind: 'refresh_token', familyId: 'f1' })
      await store.insertToken(refresh)
      const next = sampleToken({ hash: 'r2', jti: 'r2', kind: 'refresh_token', familyId: 'f1' })
      const first = await store.rotateRefreshToken('r1', [next], T0 + 1)
      expect(first.outcome).toBe('rotated')
      const again = sampleToken({ hash: 'r3', jti: 'r3', kind: 'refresh_token', familyId: 'f1' })
      const second = await store.rotateRefreshToken('r1', [again], T0 + 2)
      expect(second.outcome).toBe('reused')
      await expect(store.getTokenByHash('r3')).resolves.toBeNull()
      expect((await store.rotateRefreshToken('absent', [], T0)).outcome).toBe('not_found')
      const revoked = await store.revokeTokenFamily('f1', T0 + 3)
      expect(revoked.map((token) => token.hash).sort()).toEqual(['r1', 'r2'])
    })

    it('redeems an authorization code once and revokes what it issued on replay', async () => {
      await store.insertAuthorizationCode(sampleCode({ hash: 'c1' }))
      expect((await store.getAuthorizationCode('c1'))?.codeChallenge).toBe('x')
      expect((await store.redeemAuthorizationCode('c1', T0 + 1)).outcome).toBe('redeemed')
      await store.insertToken(sampleToken({ codeHash: 'c1' }))
      expect((await store.redeemAuthorizationCode('c1', T0 + 2)).outcome).toBe('replayed')
      expect((await store.redeemAuthorizationCode('c2', T0 + 2)).outcome).toBe('not_found')
      expect(await store.revokeTokensFromCode('c1', T0 + 3)).toHaveLength(1)
    })

    it('inserts a token still being issued from a code that was replayed meanwhile already revoked', async () => {
      await store.insertAuthorizationCode(sampleCode({ hash: 'c-race' }))
      // The first redemption wins; a replay arrives before its tokens are stored.
      expect((await store.redeemAuthorizationCode('c-race', T0 + 1)).outcome).toBe('redeemed')
      expect((await store.redeemAuthorizationCode('c-race', T0 + 2)).outcome).toBe('replayed')
      expect(await store.revokeTokensFromCode('c-race', T0 + 2)).toHaveLength(0)
      await store.insertToken(sampleToken({ hash: 'late', jti: 'late', codeHash: 'c-race' }))
      expect((await store.getTokenByHash('late'))?.revokedAt).toBe(T0 + 2)
      // A later replay keeps the first replay's time; tokens of other codes are born live.
      expect((await store.redeemAuthorizationCode('c-race', T0 + 9)).outcome).toBe('replayed')
      await store.insertToken(sampleToken({ hash: 'late-2', jti: 'late-2', codeHash: 'c-race' }))
      expect((await store.getTokenByHash('late-2'))?.revokedAt).toBe(T0 + 2)
      await store.insertToken(sampleToken({ hash: 'plain', jti: 'plain', codeHash: 'other' }))
      expect((await store.getTokenByHash('plain'))?.revokedAt).toBeNull()
      await store.insertToken(sampleToken({ hash: 'no-code', jti: 'no-code', codeHash: null }))
      expect((await store.getTokenByHash('no-code'))?.revokedAt).toBeNull()
    })

    it('records an assertion jti once per client', async () => {
      expect(await store.recordAssertionJti('client-1', 'a', T0 + 60_000)).toBe(true)
      expect(await store.recordAssertionJti('client-1', 'a', T0 + 60_000)).toBe(false)
      expect(await store.recordAssertionJti('client-2', 'a', T0 + 60_000)).toBe(true)
    })

    it('counts failed logins, locks at the limit and resets on success', async () => {
      await store.createUser(sampleUser())
      expect(await store.recordFailedLogin('user-1', 2, T0 + 1000, T0)).toEqual({
        failedLogins: 1,
        lockedUntil: null,
      })
      expect(await store.recordFailedLogin('user-1', 2, T0 + 1000, T0)).toEqual({
        failedLogins: 2,
        lockedUntil: T0 + 1000,
      })
      // After the lock expired the count starts again.
      expect(await store.recordFailedLogin('user-1', 2, T0 + 3000, T0 + 2000)).toEqual({
        failedLogins: 1,
        lockedUntil: null,
      })
      await store.recordSuccessfulLogin('user-1', 42)
      const user = await store.getUserByUsername('alice')
      expect(user).toMatchObject({ failedLogins: 0, lockedUntil: null, lastTotpStep: 42 })
    })

    it('keeps sessions, consents and single-use pushed requests', async () => {
      await store.insertLoginSession({
        hash: 's',
        userId: 'u',
        authTime: T0,
        amr: ['pwd'],
        expiresAt: T0 + 10,
      })
      expect((await store.getLoginSession('s', T0))?.amr).toEqual(['pwd'])
      await expect(store.getLoginSession('s', T0 + 10)).resolves.toBeNull()
      await store.saveConsent('u', 'c', ['openid'])
      await store.saveConsent('u', 'c', ['openid', 'profile'])
      expect(await store.getConsentedScopes('u', 'c')).toEqual(['openid', 'profile'])
      await store.insertPushedRequest({
        hash: 'p',
        clientId: 'c',
        parameters: { a: '1' },
        expiresAt: T0 + 10,
      })
      expect((await store.getPushedRequest('p', T0))?.parameters).toEqual({ a: '1' })
      expect(
        await store.updatePushedRequest({
          hash: 'p',
          clientId: 'c',
          parameters: { a: '2' },
          expiresAt: T0 + 10,
        }),
      ).toBe(true)
      expect(
        await store.updatePushedRequest({
          hash: 'p',
          clientId: 'other',
          parameters: {},
          expiresAt: T0 + 10,
        }),
      ).toBe(false)
      await expect(store.getPushedRequest('p', T0 + 10)).resolves.toBeNull()
      expect((await store.takePushedRequest('p', T0))?.parameters).toEqual({ a: '2' })
      await expect(store.takePushedRequest('p', T0)).resolves.toBeNull()
    })

    it('writes and queries the audit trail newest first', async () => {
      for (const [type, tokenId] of [
        ['token.issued', 'j1'],
        ['token.revoked', 'j1'],
        ['token.issued', 'j2'],
      ] as const) {
        await store.appendAuditEvent(
          createAuditEvent(
            { type, component: 'authorization-server', outcome: 'success', tokenId, clientId: 'c' },
            () => T0,
          ),
        )
      }
      expect((await store.queryAuditEvents({ tokenId: 'j1' })).map((e) => e.type)).toEqual([
        'token.revoked',
        'token.issued',
      ])
      expect(await store.queryAuditEvents({ type: 'token.issued', limit: 1 })).toHaveLength(1)
      expect(await store.queryAuditEvents({ since: T0 + 1 })).toHaveLength(0)
    })

    it('sweeps expired rows and retired keys whose tokens all expired', async () => {
      await store.insertToken(sampleToken())
      await store.insertToken(sampleToken({ hash: 'h2', jti: 'j2', expiresAt: T0 + 120_000 }))
      await store.recordAssertionJti('c', 'a', T0 + 10)
      await store.saveSigningKeys({
        created: [
          {
            kid: 'k1',
            alg: 'ES256',
            publicJwk: {},
            encryptedPrivateJwk: 'x',
            state: 'retired',
            createdAt: T0,
            activatedAt: T0,
            retiredAt: T0,
            publishUntil: T0 + 60_000,
          },
          {
            kid: 'k2',
            alg: 'ES256',
            publicJwk: {},
            encryptedPrivateJwk: 'x',
            state: 'active',
            createdAt: T0,
            activatedAt: T0,
            retiredAt: null,
            publishUntil: null,
          },
        ],
        updated: [],
      })
      const result = await store.sweepExpired(T0 + 60_000)
      expect(result).toMatchObject({ tokens: 1, assertions: 1, keys: 1 })
      await expect(store.getTokenByHash('h1')).resolves.toBeNull()
      expect((await store.getTokenByHash('h2'))?.jti).toBe('j2')
      expect((await store.listSigningKeys()).map((key) => key.kid)).toEqual(['k2'])
    })
  })
}
