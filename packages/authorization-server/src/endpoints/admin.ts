import type { IncomingMessage } from 'node:http'
import { AUDIT_EVENT_TYPES, type AuditEventType } from '@gatehouse/audit'
import { ZodError } from 'zod'
import {
  type ClientChange,
  createClient,
  publicClientView,
  rotateClientSecret,
  updateClient,
} from '../admin/clients.js'
import { createUser, publicUserView, type UserChange, updateUser } from '../admin/users.js'
import type { RequestContext, ServerContext } from '../context.js'
import {
  InsufficientScope,
  InvalidRequest,
  InvalidToken,
  MethodNotAllowed,
  NotFound,
} from '../errors.js'
import { readBody } from '../http/form.js'
import { sendJson } from '../http/respond.js'
import {
  type KeyRotationPolicy,
  KeyRotationTooEarly,
  rotateSigningKeys,
} from '../keys/signing-keys.js'
import type { AuditQuery } from '../store/store.js'
import { findToken, isActive } from '../tokens/lookup.js'

export const ADMIN_SCOPE = 'admin'

/** The audience an admin token must carry: `<issuer>/admin`. */
export function adminAudience(issuer: string): string {
  return `${issuer}/admin`
}

interface Caller {
  readonly clientId: string
  readonly jti: string
}

type AdminRoute = (rc: RequestContext, id: string | undefined, caller: Caller) => Promise<void>

/**
 * The admin API (`/admin/...`, JSON): clients, users, keys and the audit trail. It is a resource
 * server of this very authorization server: callers present a Bearer access token from
 * client_credentials with the `admin` scope and the `<issuer>/admin` audience (RFC 6750).
 * Every change is written to the audit trail. Secrets are returned once, at creation.
 */
export function createAdminEndpoint(
  ctx: ServerContext,
  policy: KeyRotationPolicy,
): (rc: RequestContext, path: string) => Promise<void> {
  const audience = adminAudience(ctx.config.issuer)

  async function authenticate(req: IncomingMessage): Promise<{ clientId: string; jti: string }> {
    const match = /^Bearer ([\x21-\x7E]+)$/i.exec(req.headers.authorization?.trim() ?? '')
    if (match === null)
      throw new InvalidToken('a bearer access token is required', 'admin.missing_token')
    const record = await findToken(ctx, match[1] ?? '')
    if (!isActive(record, ctx.now()) || record.kind !== 'access_token') {
      throw new InvalidToken('the access token is invalid', 'admin.inactive')
    }
    if (!record.audience.includes(audience)) {
      throw new InvalidToken('the access token is not for the admin API', 'admin.audience')
    }
    if (!record.scope.split(' ').includes(ADMIN_SCOPE)) {
      throw new InsufficientScope('the admin scope is required', 'admin.scope')
    }
    return { clientId: record.clientId, jti: record.jti }
  }

  async function readJson(rc: RequestContext): Promise<unknown> {
    const type = (rc.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') {
      rc.req.resume()
      throw new InvalidRequest('the request body must be application/json', 'admin.content_type')
    }
    const body = await readBody(rc.req, ctx.config.limits.maxBodyBytes)
    try {
      return JSON.parse(body.toString('utf8')) as unknown
    } catch {
      throw new InvalidRequest('the request body is not valid JSON', 'admin.json')
    }
  }

  function changed(
    rc: RequestContext,
    caller: { clientId: string; jti: string },
    what: string,
    id: string,
  ) {
    ctx.audit.emit({
      type: 'admin.changed',
      outcome: 'success',
      clientId: caller.clientId,
      tokenId: caller.jti,
      ip: rc.ip,
      requestId: rc.requestId,
      reason: what,
      details: { target: id },
    })
  }

  const routes: Record<string, Partial<Record<string, AdminRoute>>> = {
    clients: {
      async GET(rc, id) {
        if (id === undefined) {
          sendJson(rc.res, 200, { clients: (await ctx.store.listClients()).map(publicClientView) })
          return
        }
        const client = await ctx.store.getClient(id)
        if (client === null) throw new NotFound('no such client', 'admin.no_client')
        sendJson(rc.res, 200, publicClientView(client))
      },
      async POST(rc, id, caller) {
        if (id !== undefined) throw new NotFound('not found', 'admin.not_found')
        const input = await readJson(rc)
        if (typeof input === 'object' && input !== null && 'clientId' in input) {
          const existing = await ctx.store.getClient(
            String((input as { clientId: unknown }).clientId),
          )
          if (existing !== null)
            throw new InvalidRequest('the client id is taken', 'admin.client_exists')
        }
        const created = await createClient(ctx.store, input as Parameters<typeof createClient>[1], {
          now: ctx.now(),
          maxAccessTokenTtlSeconds: ctx.config.tokens.accessTokenTtlSeconds,
        })
        changed(rc, caller, 'client.created', created.client.clientId)
        sendJson(rc.res, 201, {
          client: publicClientView(created.client),
          client_secret: created.clientSecret,
        })
      },
      async PATCH(rc, id, caller) {
        const change = await readJson(rc)
        const updated =
          id === undefined
            ? null
            : await updateClient(ctx.store, id, change as ClientChange, {
                maxAccessTokenTtlSeconds: ctx.config.tokens.accessTokenTtlSeconds,
              })
        if (id === undefined || updated === null)
          throw new NotFound('no such client', 'admin.no_client')
        changed(rc, caller, 'client.updated', id)
        sendJson(rc.res, 200, publicClientView(updated))
      },
      async DELETE(rc, id, caller) {
        if (id === undefined || !(await ctx.store.deleteClient(id)))
          throw new NotFound('no such client', 'admin.no_client')
        changed(rc, caller, 'client.deleted', id)
        sendJson(rc.res, 200, { deleted: id })
      },
    },
    'client-secrets': {
      async POST(rc, id, caller) {
        const secret = id === undefined ? null : await rotateClientSecret(ctx.store, id)
        if (id === undefined || secret === null)
          throw new NotFound('no such client with a secret', 'admin.no_client')
        changed(rc, caller, 'client.secret_rotated', id)
        sendJson(rc.res, 200, { client_id: id, client_secret: secret })
      },
    },
    users: {
      async GET(rc, id) {
        if (id === undefined) {
          sendJson(rc.res, 200, { users: (await ctx.store.listUsers()).map(publicUserView) })
          return
        }
        const user = await ctx.store.getUserById(id)
        if (user === null) throw new NotFound('no such user', 'admin.no_user')
        sendJson(rc.res, 200, publicUserView(user))
      },
      async POST(rc, id, caller) {
        if (id !== undefined) throw new NotFound('not found', 'admin.not_found')
        const input = await readJson(rc)
        if (typeof input === 'object' && input !== null && 'username' in input) {
          const existing = await ctx.store.getUserByUsername(
            String((input as { username: unknown }).username),
          )
          if (existing !== null)
            throw new InvalidRequest('the username is taken', 'admin.user_exists')
        }
        const created = await createUser(
          ctx.store,
          ctx.encryption,
          input as Parameters<typeof createUser>[2],
          { now: ctx.now() },
        )
        changed(rc, caller, 'user.created', created.user.id)
        sendJson(rc.res, 201, {
          user: publicUserView(created.user),
          totp_secret: created.totpSecret,
        })
      },
      async PATCH(rc, id, caller) {
        const change = await readJson(rc)
        const updated =
          id === undefined ? null : await updateUser(ctx.store, id, change as UserChange)
        if (id === undefined || updated === null)
          throw new NotFound('no such user', 'admin.no_user')
        changed(rc, caller, 'user.updated', id)
        sendJson(rc.res, 200, publicUserView(updated))
      },
      async DELETE(rc, id, caller) {
        if (id === undefined || !(await ctx.store.deleteUser(id)))
          throw new NotFound('no such user', 'admin.no_user')
        changed(rc, caller, 'user.deleted', id)
        sendJson(rc.res, 200, { deleted: id })
      },
    },
    'user-unlocks': {
      async POST(rc, id, caller) {
        const user = id === undefined ? null : await ctx.store.getUserById(id)
        if (user === null) throw new NotFound('no such user', 'admin.no_user')
        await ctx.store.recordSuccessfulLogin(user.id, null)
        changed(rc, caller, 'user.unlocked', user.id)
        sendJson(rc.res, 200, publicUserView({ ...user, failedLogins: 0, lockedUntil: null }))
      },
    },
    keys: {
      async GET(rc) {
        const keys = await ctx.store.listSigningKeys()
        sendJson(rc.res, 200, {
          keys: keys.map((key) => ({
            kid: key.kid,
            alg: key.alg,
            state: key.state,
            createdAt: key.createdAt,
            activatedAt: key.activatedAt,
            retiredAt: key.retiredAt,
            publishUntil: key.publishUntil,
          })),
        })
      },
    },
    'key-rotations': {
      async POST(rc, _id, caller) {
        const force = rc.url.searchParams.get('force') === 'true'
        try {
          const result = await rotateSigningKeys(ctx.store, ctx.encryption, policy, {
            now: ctx.now(),
            force,
          })
          ctx.keys.invalidate()
          ctx.audit.emit({
            type: 'key.rotated',
            outcome: 'success',
            clientId: caller.clientId,
            tokenId: caller.jti,
            requestId: rc.requestId,
            ip: rc.ip,
            details: {
              activated: result.activated,
              retired: result.retired,
              published: result.published,
              forced: force,
            },
          })
          sendJson(rc.res, 200, result)
        } catch (error) {
          if (error instanceof KeyRotationTooEarly) {
            throw new InvalidRequest(error.message, 'admin.rotation_too_early')
          }
          throw error
        }
      },
    },
    audit: {
      async GET(rc) {
        sendJson(rc.res, 200, {
          events: await ctx.store.queryAuditEvents(auditQuery(rc.url.searchParams)),
        })
      },
    },
  }

  return async function adminEndpoint(rc, path) {
    // path: "clients", "clients/<id>", "clients/<id>/secret", "users/<id>/unlock", "keys", "keys/rotate", "audit"
    let segments: string[]
    try {
      segments = path.split('/').map((segment) => decodeURIComponent(segment))
    } catch {
      throw new NotFound('not found', 'admin.bad_path')
    }
    let resource = segments[0] ?? ''
    let id = segments[1]
    if (segments.length === 3 && resource === 'clients' && segments[2] === 'secret')
      resource = 'client-secrets'
    else if (segments.length === 3 && resource === 'users' && segments[2] === 'unlock')
      resource = 'user-unlocks'
    else if (segments.length === 2 && resource === 'keys' && segments[1] === 'rotate') {
      resource = 'key-rotations'
      id = undefined
    } else if (segments.length > 2) throw new NotFound('not found', 'admin.not_found')
    const methods = routes[resource]
    if (methods === undefined) throw new NotFound('not found', 'admin.not_found')
    const handler = methods[rc.req.method ?? '']
    if (handler === undefined) throw new MethodNotAllowed(Object.keys(methods))
    const caller = await authenticate(rc.req)
    try {
      await handler(rc, id === '' ? undefined : id, caller)
    } catch (error) {
      if (error instanceof TypeError) {
        throw new InvalidRequest(error.message, 'admin.invalid_input')
      }
      if (error instanceof ZodError) {
        const issue = error.issues[0]
        throw new InvalidRequest(
          `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
          'admin.invalid_input',
        )
      }
      throw error
    }
  }
}

function auditQuery(params: URLSearchParams): AuditQuery {
  const query: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = {}
  const type = params.get('type')
  if (type !== null) {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) {
      throw new InvalidRequest('unknown audit event type', 'admin.audit_type')
    }
    query.type = type as AuditEventType
  }
  const strings = {
    client_id: 'clientId',
    subject: 'subject',
    token_id: 'tokenId',
    request_id: 'requestId',
  } as const
  for (const [param, field] of Object.entries(strings)) {
    const value = params.get(param)
    if (value !== null) query[field] = value
  }
  const numbers = { since: 'since', until: 'until', limit: 'limit' } as const
  for (const [param, field] of Object.entries(numbers)) {
    const value = params.get(param)
    if (value === null) continue
    const parsed = param === 'limit' ? Number(value) : Date.parse(value)
    if (!Number.isFinite(parsed))
      throw new InvalidRequest(`${param} is malformed`, 'admin.audit_query')
    query[field] = parsed
  }
  return query
}
