import type { Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { type AuditBus, createAuditBus } from '@gatehouse/audit'
import { createJwtValidator, type JwtValidatorOptions, type KeySet } from '@gatehouse/jwt'
import { AccessDenied, BearerError, KeySetUnavailable } from '@gatehouse/jwt/errors'
import { jwtAuth, jwtErrorHandler } from '@gatehouse/jwt/fastify'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { createRefusalAuditor } from './http/audit-refusal.js'
import { createClientCertificateCheck } from './http/client-certificate.js'
import { registerOrdersRoutes } from './http/orders-routes.js'
import { renderFrameworkError, renderNotFound, renderProblem } from './http/problem.js'
import { requestIdOf } from './http/request-id.js'
import { demoOrders } from './orders/demo-orders.js'
import { createMemoryOrderStore } from './orders/memory-store.js'
import type { OrderStore } from './orders/store.js'

/** The audience the dev stack's authorization server issues orders tokens for. */
export const ORDERS_API_AUDIENCE = 'urn:gatehouse:api:orders'

export interface OrdersApiOptions {
  /** The one issuer whose tokens are accepted (`iss` must equal it). */
  readonly issuer: string
  /** This API's identifier: `aud` must contain it. Default `urn:gatehouse:api:orders`. */
  readonly audience?: string
  /** Where the issuer's keys come from: its JWKS URL (https, with an optional CA), or a key set. */
  readonly keys: { readonly jwksUri: string; readonly ca?: string } | { readonly keySet: KeySet }
  readonly tls: {
    /** This server's certificate and key (PEM). */
    readonly cert: string
    readonly key: string
    /** The CA (PEM) that client certificates must be issued by. */
    readonly clientCa: string
    /** Subject CNs allowed to call, e.g. `['gatehouse-gateway']`. */
    readonly allowedClientCommonNames: readonly string[]
  }
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0 (a free port). */
  readonly port?: number
  /** Default: an in-memory store seeded with the demo orders of alice and bob. */
  readonly store?: OrderStore
  /** Where `access.denied` events go. Default: a bus of its own (see `OrdersApi.audit`). */
  readonly audit?: AuditBus
  /** A pino logger. Default: no logs. */
  readonly logger?: FastifyBaseLogger
  /** The clock for token checks (tests). */
  readonly now?: () => number
}

export interface OrdersApi {
  readonly app: FastifyInstance<Server>
  readonly audit: AuditBus
  /** Starts listening; resolves with the HTTPS URL. */
  listen(): Promise<{ url: string; port: number }>
  close(): Promise<void>
}

const REALM = 'orders'

/**
 * The example orders API: HTTPS with mandatory client certificates (the gateway's), the JWT
 * verified again, scopes per method, and deny-by-default claims rules per order. See README.md
 * for the rules line by line.
 */
export async function createOrdersApi(options: OrdersApiOptions): Promise<OrdersApi> {
  const { tls } = options
  for (const name of ['cert', 'key', 'clientCa'] as const) {
    if (typeof tls?.[name] !== 'string' || tls[name] === '') {
      throw new TypeError(`tls.${name} is required (PEM)`)
    }
  }
  if (!Array.isArray(tls.allowedClientCommonNames) || tls.allowedClientCommonNames.length === 0) {
    throw new TypeError('tls.allowedClientCommonNames needs at least one common name')
  }
  const validator = createJwtValidator({
    issuer: options.issuer,
    audience: options.audience ?? ORDERS_API_AUDIENCE,
    typ: 'at+jwt',
    // The gateway verified this token a moment ago; a short cache keeps re-verifying cheap.
    cache: { maxEntries: 10_000, ttlSeconds: 60 },
    ...keySource(options.keys),
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const store = options.store ?? createMemoryOrderStore({ seed: demoOrders() })
  const audit = options.audit ?? createAuditBus()
  const auditRefusal = createRefusalAuditor(audit)

  const app = Fastify({
    https: {
      cert: tls.cert,
      key: tls.key,
      ca: tls.clientCa,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    bodyLimit: 16 * 1024,
    requestIdHeader: false,
    genReqId: requestIdOf,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    requestTimeout: 10_000,
    return503OnClosing: true,
    frameworkErrors: renderFrameworkError,
    // Closed schemas must refuse extra fields (400) instead of silently dropping them, and a
    // string is never coerced into a number.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  })

  app.removeContentTypeParser('text/plain')
  app.addHook(
    'onRequest',
    createClientCertificateCheck({
      allowedCommonNames: tls.allowedClientCommonNames,
      onRefused: (request, commonName) =>
        auditRefusal(request, 'mtls.subject_not_allowed', {
          clientCertificateCn: commonName ?? null,
        }),
    }),
  )
  app.addHook('onSend', async function noStore(_request, reply) {
    reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff')
  })
  app.setErrorHandler(renderProblem)
  app.setNotFoundHandler(renderNotFound)

  const renderBearerError = jwtErrorHandler({ realm: REALM })
  await app.register(async function ordersApi(api) {
    await api.register(jwtAuth, {
      validator,
      realm: REALM,
      onError: function auditAuthenticationRefusal(error, request) {
        if (error instanceof BearerError) auditRefusal(request, error.reason)
      },
    })
    api.setErrorHandler(function renderOrdersError(error, request, reply) {
      // Token, scope and policy errors thrown by the routes (AccessDenied: an admin writing).
      if (error instanceof BearerError) {
        auditRefusal(
          request,
          error.reason,
          error instanceof AccessDenied ? { action: error.action } : {},
        )
      }
      if (error instanceof BearerError || error instanceof KeySetUnavailable) {
        return renderBearerError(error, request, reply)
      }
      throw error // the orders API's own errors and Fastify's: renderProblem
    })
    registerOrdersRoutes(api, { store, auditRefusal })
  })
  await app.ready()

  return {
    app,
    audit,
    async listen() {
      await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
      const { address, port } = app.server.address() as AddressInfo
      const host = address.includes(':') ? `[${address}]` : address
      return { url: `https://${host}:${port}`, port }
    },
    close: () => app.close(),
  }
}

function keySource(
  keys: OrdersApiOptions['keys'],
): Pick<JwtValidatorOptions, 'jwksUri' | 'jwksOptions' | 'keySet'> {
  if ('keySet' in keys) return { keySet: keys.keySet }
  return {
    jwksUri: keys.jwksUri,
    ...(keys.ca === undefined ? {} : { jwksOptions: { ca: keys.ca } }),
  }
}
