import type { RequestContext, ServerContext } from '../../context.js'
import { AccessDenied } from '../../errors.js'
import { clearedCookie, readCookie } from '../../http/cookies.js'
import { readForm } from '../../http/form.js'
import type { Csrf } from '../../login/csrf.js'
import { dummyPasswordHash, verifyPassword } from '../../login/password.js'
import { INTERACTION_COOKIE, startLoginSession } from '../../login/session.js'
import { verifyTotp } from '../../login/totp.js'
import type { PushedRequestRecord, UserRecord } from '../../store/store.js'
import { isWellFormedOpaque } from '../../tokens/opaque.js'
import { tokenHash } from '../../tokens/token-hash.js'
import { completeAuthorization, needsConsent, redirectError } from './complete.js'
import {
  type FormBinding,
  sendConsentPage,
  sendExpiredInteraction,
  sendLoginPage,
  sendMfaPage,
} from './pages.js'
import type { AuthorizationRequest } from './request.js'

export const INTERACTION_TTL_SECONDS = 600

/** Where a pending authorization stands: who has proven what so far. */
export interface InteractionState {
  readonly request: AuthorizationRequest
  readonly userId: string | null
  readonly passwordVerified: boolean
  /** Set once the user is fully authenticated (password, and TOTP when enrolled). */
  readonly authTime: number | null
  readonly amr: readonly string[]
}

interface Loaded {
  readonly id: string
  readonly record: PushedRequestRecord
  readonly state: InteractionState
}

/**
 * The login, MFA and consent steps: GET /interaction?id=… shows the current step, POST
 * /interaction submits it. Every POST carries the interaction id (which must equal the
 * SameSite interaction cookie) and a CSRF token derived from it.
 */
export function createInteractionEndpoints(
  ctx: ServerContext,
  csrf: Csrf,
): { show: (rc: RequestContext) => Promise<void>; submit: (rc: RequestContext) => Promise<void> } {
  const action = new URL(ctx.urls.authorization).pathname.replace(/authorize$/, 'interaction')
  const { login } = ctx.config

  async function load(rc: RequestContext, id: string | undefined): Promise<Loaded | null> {
    if (id === undefined || !isWellFormedOpaque(id, 'interaction')) return null
    if (readCookie(rc.req, INTERACTION_COOKIE) !== id) return null
    const record = await ctx.store.getPushedRequest(tokenHash(id), ctx.now())
    if (record === null || record.parameters.state === undefined) return null
    return { id, record, state: JSON.parse(record.parameters.state) as InteractionState }
  }

  const binding = (id: string): FormBinding => ({ action, id, csrf: csrf.token(id) })

  async function clientName(clientId: string): Promise<string> {
    return (await ctx.store.getClient(clientId))?.name ?? clientId
  }

  async function save(loaded: Loaded, state: InteractionState): Promise<void> {
    await ctx.store.updatePushedRequest({
      ...loaded.record,
      parameters: { state: JSON.stringify(state) },
    })
  }

  async function showStep(
    rc: RequestContext,
    loaded: Loaded,
    headers: Record<string, string | string[]> = {},
  ) {
    const { state } = loaded
    if (state.userId === null) {
      sendLoginPage(rc.res, binding(loaded.id), await clientName(state.request.clientId), {
        headers,
      })
    } else if (state.authTime === null) {
      sendMfaPage(rc.res, binding(loaded.id), { headers })
    } else {
      sendConsentPage(
        rc.res,
        binding(loaded.id),
        await clientName(state.request.clientId),
        state.request.scopes,
        ctx.config.scopes,
        headers,
      )
    }
  }

  /** Fully authenticated: start the session, then consent or finish. */
  async function authenticated(
    rc: RequestContext,
    loaded: Loaded,
    user: UserRecord,
    amr: string[],
  ) {
    const session = await startLoginSession(ctx, user, amr)
    ctx.audit.emit({
      type: 'login.succeeded',
      outcome: 'success',
      subject: user.id,
      clientId: loaded.state.request.clientId,
      ip: rc.ip,
      requestId: rc.requestId,
      details: { amr: amr.join(' ') },
    })
    const state: InteractionState = {
      ...loaded.state,
      userId: user.id,
      passwordVerified: true,
      authTime: session.authTime,
      amr,
    }
    const client = await ctx.store.getClient(state.request.clientId)
    const consented = await ctx.store.getConsentedScopes(user.id, state.request.clientId)
    if (
      client === null ||
      state.request.prompt === 'consent' ||
      needsConsent(client, state.request.scopes, consented)
    ) {
      await save(loaded, state)
      await showStep(rc, { ...loaded, state }, { 'set-cookie': session.cookie })
      return
    }
    await ctx.store.takePushedRequest(loaded.record.hash, ctx.now())
    await completeAuthorization(
      ctx,
      rc.res,
      state.request,
      user,
      { authTime: session.authTime, amr },
      {
        'set-cookie': [session.cookie, clearedCookie(INTERACTION_COOKIE)],
      },
    )
  }

  async function failedAttempt(
    rc: RequestContext,
    user: UserRecord | null,
    type: 'login.failed' | 'mfa.failed',
    clientId: string,
  ) {
    const now = ctx.now()
    if (user !== null) {
      const result = await ctx.store.recordFailedLogin(
        user.id,
        login.maxFailedAttempts,
        now + login.lockoutSeconds * 1000,
        now,
      )
      if (
        result.lockedUntil !== null &&
        result.lockedUntil > now &&
        result.failedLogins === login.maxFailedAttempts
      ) {
        ctx.audit.emit({
          type: 'login.locked',
          outcome: 'denied',
          subject: user.id,
          clientId,
          ip: rc.ip,
          requestId: rc.requestId,
        })
      }
    }
    ctx.audit.emit({
      type,
      outcome: 'failure',
      clientId,
      ip: rc.ip,
      requestId: rc.requestId,
      ...(user === null ? { reason: 'login.unknown_user' } : { subject: user.id, reason: type }),
    })
  }

  const isLocked = (user: UserRecord | null) =>
    user !== null && user.lockedUntil !== null && user.lockedUntil > ctx.now()
  const LOCKED = 'Too many failed attempts. Try again later.'

  async function loginStep(rc: RequestContext, loaded: Loaded, form: ReadonlyMap<string, string>) {
    const clientId = loaded.state.request.clientId
    const username = form.get('username') ?? ''
    const password = form.get('password') ?? ''
    const user = username.length > 128 ? null : await ctx.store.getUserByUsername(username)
    if (isLocked(user)) {
      ctx.audit.emit({
        type: 'login.locked',
        outcome: 'denied',
        subject: user?.id ?? '',
        clientId,
        ip: rc.ip,
        requestId: rc.requestId,
      })
      sendLoginPage(rc.res, binding(loaded.id), await clientName(clientId), {
        status: 429,
        error: LOCKED,
      })
      return
    }
    // An unknown user costs one scrypt too: no username enumeration by timing.
    const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()))
    if (user === null || user.disabled || !valid) {
      await failedAttempt(rc, user, 'login.failed', clientId)
      sendLoginPage(rc.res, binding(loaded.id), await clientName(clientId), {
        status: 401,
        error: 'Invalid username or password.',
      })
      return
    }
    if (user.encryptedTotpSecret !== null) {
      const state: InteractionState = {
        ...loaded.state,
        userId: user.id,
        passwordVerified: true,
        authTime: null,
        amr: ['pwd'],
      }
      await save(loaded, state)
      sendMfaPage(rc.res, binding(loaded.id))
      return
    }
    await ctx.store.recordSuccessfulLogin(user.id, null)
    await authenticated(rc, loaded, user, ['pwd'])
  }

  async function mfaStep(rc: RequestContext, loaded: Loaded, form: ReadonlyMap<string, string>) {
    const { state } = loaded
    const user = state.userId === null ? null : await ctx.store.getUserById(state.userId)
    if (user === null || !state.passwordVerified || user.encryptedTotpSecret === null) {
      sendExpiredInteraction(rc.res)
      return
    }
    if (isLocked(user)) {
      sendMfaPage(rc.res, binding(loaded.id), { status: 429, error: LOCKED })
      return
    }
    const secret = ctx.encryption.decrypt(user.encryptedTotpSecret, `totp:${user.id}`)
    const step = verifyTotp(secret, form.get('code') ?? '', ctx.now(), user.lastTotpStep)
    if (step === null) {
      await failedAttempt(rc, user, 'mfa.failed', state.request.clientId)
      sendMfaPage(rc.res, binding(loaded.id), { status: 401, error: 'Invalid code.' })
      return
    }
    await ctx.store.recordSuccessfulLogin(user.id, step)
    await authenticated(rc, loaded, user, ['pwd', 'otp'])
  }

  async function consentStep(
    rc: RequestContext,
    loaded: Loaded,
    form: ReadonlyMap<string, string>,
  ) {
    const { state } = loaded
    const user = state.userId === null ? null : await ctx.store.getUserById(state.userId)
    if (user === null || state.authTime === null) {
      sendExpiredInteraction(rc.res)
      return
    }
    await ctx.store.takePushedRequest(loaded.record.hash, ctx.now())
    const headers = { 'set-cookie': clearedCookie(INTERACTION_COOKIE) }
    if (form.get('decision') !== 'allow') {
      redirectError(
        ctx,
        rc.res,
        state.request.redirectUri,
        state.request.state,
        new AccessDenied('the user denied access', 'consent.denied'),
        headers,
      )
      return
    }
    const consented = await ctx.store.getConsentedScopes(user.id, state.request.clientId)
    await ctx.store.saveConsent(user.id, state.request.clientId, [
      ...new Set([...consented, ...state.request.scopes]),
    ])
    ctx.audit.emit({
      type: 'consent.granted',
      outcome: 'success',
      subject: user.id,
      clientId: state.request.clientId,
      ip: rc.ip,
      requestId: rc.requestId,
      details: { scope: state.request.scopes.join(' ') },
    })
    await completeAuthorization(
      ctx,
      rc.res,
      state.request,
      user,
      { authTime: state.authTime, amr: state.amr },
      headers,
    )
  }

  return {
    async show(rc) {
      const loaded = await load(rc, rc.url.searchParams.get('id') ?? undefined)
      if (loaded === null) {
        sendExpiredInteraction(rc.res)
        return
      }
      await showStep(rc, loaded)
    },
    async submit(rc) {
      const { single: form } = await readForm(rc.req, ctx.config.limits)
      const loaded = await load(rc, form.get('id'))
      if (loaded === null) {
        sendExpiredInteraction(rc.res)
        return
      }
      if (!csrf.verify(loaded.id, form.get('csrf'))) {
        sendExpiredInteraction(rc.res)
        return
      }
      const step = form.get('step')
      if (step === 'login' && loaded.state.userId === null) return loginStep(rc, loaded, form)
      if (step === 'mfa' && loaded.state.userId !== null && loaded.state.authTime === null)
        return mfaStep(rc, loaded, form)
      if (step === 'consent' && loaded.state.authTime !== null) return consentStep(rc, loaded, form)
      sendExpiredInteraction(rc.res)
    },
  }
}
