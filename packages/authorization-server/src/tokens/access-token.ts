import { timeOrderedId } from '@gatehouse/audit'
import type { ServerContext } from '../context.js'
import type { ClientRecord, TokenRecord } from '../store/store.js'
import { signCompactJws } from './jws-sign.js'
import { generateOpaque } from './opaque.js'
import { tokenHash } from './token-hash.js'

export interface AccessTokenRequest {
  readonly client: ClientRecord
  readonly subject: string
  readonly scopes: readonly string[]
  readonly audience: readonly string[]
  /** Claims released by the granted scopes (see `claims.ts`). */
  readonly claims: Readonly<Record<string, unknown>>
  readonly familyId?: string | null
  readonly codeHash?: string | null
  /** RFC 8693 §4.1: the acting party of a delegated token. */
  readonly actor?: Readonly<Record<string, unknown>>
  /** The token never outlives this (ms): an exchanged token ends with its subject token. */
  readonly notAfter?: number
}

export interface IssuedAccessToken {
  readonly token: string
  readonly record: TokenRecord
  readonly expiresIn: number
  /** For split tokens: the `header.payload` to publish once the record is stored. */
  readonly splitHead: string | null
}

/** RFC 9068 §2.2 claims of an access token, in the JWT form and in introspection. */
export function accessTokenClaims(
  ctx: ServerContext,
  record: TokenRecord,
): Record<string, unknown> {
  return {
    ...record.claims,
    iss: ctx.config.issuer,
    sub: record.subject,
    aud: record.audience.length === 1 ? record.audience[0] : [...record.audience],
    client_id: record.clientId,
    scope: record.scope,
    jti: record.jti,
    iat: Math.floor(record.issuedAt / 1000),
    exp: Math.floor(record.expiresAt / 1000),
  }
}

/** Signs the RFC 9068 `at+jwt` form of an access token with the active key. */
export async function signAccessTokenJwt(ctx: ServerContext, record: TokenRecord): Promise<string> {
  const { kid, alg, key } = await ctx.keys.signingKey()
  return signCompactJws({ alg, kid, typ: 'at+jwt' }, accessTokenClaims(ctx, record), key)
}

/**
 * Prepares an access token in the client's format without storing it, so grants can store it in
 * the same atomic step that spends a code or a refresh token. Opaque tokens cost no signature at
 * issuance; their JWT form is signed once, on first need (introspection with
 * `Accept: application/jwt`), and kept encrypted (see `phantom.ts`).
 */
export async function prepareAccessToken(
  ctx: ServerContext,
  request: AccessTokenRequest,
): Promise<IssuedAccessToken> {
  const now = ctx.now()
  const configured = request.client.accessTokenTtlSeconds ?? ctx.config.tokens.accessTokenTtlSeconds
  const ttl =
    request.notAfter === undefined
      ? configured
      : Math.max(0, Math.min(configured, Math.floor((request.notAfter - now) / 1000)))
  const claims: Record<string, unknown> = { ...request.claims }
  if (request.actor !== undefined) claims.act = request.actor
  const base = {
    jti: timeOrderedId(now),
    kind: 'access_token' as const,
    clientId: request.client.clientId,
    subject: request.subject,
    scope: request.scopes.join(' '),
    audience: [...request.audience],
    claims,
    format: request.client.tokenFormat,
    issuedAt: now,
    expiresAt: now + ttl * 1000,
    revokedAt: null,
    familyId: request.familyId ?? null,
    codeHash: request.codeHash ?? null,
    usedAt: null,
    jwt: null,
  }
  let token: string
  let splitHead: string | null = null
  if (request.client.tokenFormat === 'opaque') {
    token = generateOpaque('access_token')
  } else {
    const jwt = await signAccessTokenJwt(ctx, { ...base, hash: '' })
    if (request.client.tokenFormat === 'split') {
      const lastDot = jwt.lastIndexOf('.')
      splitHead = jwt.slice(0, lastDot)
      token = jwt.slice(lastDot + 1)
    } else {
      token = jwt
    }
  }
  const record: TokenRecord = { ...base, hash: tokenHash(token) }
  return { token, record, expiresIn: ttl, splitHead }
}

/** Publishes a stored split token's `header.payload` for the gateway (no-op for other formats). */
export async function publishSplitHead(
  ctx: ServerContext,
  issued: IssuedAccessToken,
): Promise<void> {
  if (issued.splitHead !== null) {
    await ctx.splitTokens.put(issued.record.hash, issued.splitHead, issued.expiresIn)
  }
}

/** Prepares, stores and publishes an access token (grants with nothing else to spend). */
export async function issueAccessToken(
  ctx: ServerContext,
  request: AccessTokenRequest,
): Promise<IssuedAccessToken> {
  const issued = await prepareAccessToken(ctx, request)
  await ctx.store.insertToken(issued.record)
  await publishSplitHead(ctx, issued)
  return issued
}

export interface IssuedRefreshToken {
  readonly token: string
  readonly record: TokenRecord
}

/** A refresh token (always opaque), member of `familyId` (RFC 9700 §4.14). */
export function prepareRefreshToken(
  ctx: ServerContext,
  request: {
    readonly client: ClientRecord
    readonly subject: string
    readonly scopes: readonly string[]
    readonly audience: readonly string[]
    readonly grant: Readonly<Record<string, unknown>>
    readonly familyId: string
    readonly codeHash: string | null
    /** The family's absolute end: rotation never extends it. */
    readonly expiresAt?: number
  },
): IssuedRefreshToken {
  const now = ctx.now()
  const token = generateOpaque('refresh_token')
  const record: TokenRecord = {
    hash: tokenHash(token),
    jti: timeOrderedId(now),
    kind: 'refresh_token',
    clientId: request.client.clientId,
    subject: request.subject,
    scope: request.scopes.join(' '),
    audience: [...request.audience],
    claims: { ...request.grant },
    format: 'opaque',
    issuedAt: now,
    expiresAt: request.expiresAt ?? now + ctx.config.tokens.refreshTokenTtlSeconds * 1000,
    revokedAt: null,
    familyId: request.familyId,
    codeHash: request.codeHash,
    usedAt: null,
    jwt: null,
  }
  return { token, record }
}
