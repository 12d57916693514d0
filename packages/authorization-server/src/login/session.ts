import type { IncomingMessage } from 'node:http'
import type { ServerContext } from '../context.js'
import { clearedCookie, hostCookie, readCookie } from '../http/cookies.js'
import type { LoginSessionRecord, UserRecord } from '../store/store.js'
import { generateOpaque, isWellFormedOpaque } from '../tokens/opaque.js'
import { tokenHash } from '../tokens/token-hash.js'

export const SESSION_COOKIE = '__Host-gatehouse-session'
export const INTERACTION_COOKIE = '__Host-gatehouse-interaction'

export interface LoginSession {
  readonly record: LoginSessionRecord
  readonly user: UserRecord
}

/** The login session of the browser, when its cookie names a live session of an enabled user. */
export async function readLoginSession(
  ctx: ServerContext,
  req: IncomingMessage,
): Promise<LoginSession | null> {
  const value = readCookie(req, SESSION_COOKIE)
  if (value === undefined || !isWellFormedOpaque(value, 'session')) return null
  const record = await ctx.store.getLoginSession(tokenHash(value), ctx.now())
  if (record === null) return null
  const user = await ctx.store.getUserById(record.userId)
  if (user === null || user.disabled) return null
  return { record, user }
}

/** Starts a login session; returns the Set-Cookie header value. */
export async function startLoginSession(
  ctx: ServerContext,
  user: UserRecord,
  amr: readonly string[],
): Promise<{ cookie: string; authTime: number }> {
  const value = generateOpaque('session')
  const now = ctx.now()
  const ttl = ctx.config.login.sessionTtlSeconds
  await ctx.store.insertLoginSession({
    hash: tokenHash(value),
    userId: user.id,
    authTime: now,
    amr,
    expiresAt: now + ttl * 1000,
  })
  return { cookie: hostCookie(SESSION_COOKIE, value, ttl), authTime: now }
}

export async function endLoginSession(ctx: ServerContext, req: IncomingMessage): Promise<string> {
  const value = readCookie(req, SESSION_COOKIE)
  if (value !== undefined && isWellFormedOpaque(value, 'session')) {
    await ctx.store.deleteLoginSession(tokenHash(value))
  }
  return clearedCookie(SESSION_COOKIE)
}
