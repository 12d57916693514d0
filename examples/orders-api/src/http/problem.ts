import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { OrdersApiError } from '../errors.js'

/** RFC 9457 problem details, in the same shape `@gatehouse/jwt` answers token errors with. */
export interface Problem {
  readonly type: 'about:blank'
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly error: string
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

// Fixed texts for framework errors: Fastify's own messages can echo request headers back.
const FRAMEWORK_DETAILS: Readonly<Record<number, string>> = {
  400: 'the request is malformed',
  413: 'the request body is too large',
  414: 'a path segment is too long',
  415: 'the request body must be application/json',
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  error: string,
  detail: string,
): FastifyReply {
  const problem: Problem = {
    type: 'about:blank',
    title: TITLES[status] ?? (status < 500 ? 'Client Error' : 'Server Error'),
    status,
    detail,
    error,
  }
  // A Buffer, so Fastify keeps the content-type exactly as given.
  return reply
    .code(status)
    .header('content-type', 'application/problem+json')
    .send(Buffer.from(JSON.stringify(problem)))
}

/**
 * The application's last error handler: the orders API's own errors, schema validation (400),
 * Fastify's 4xx errors with fixed texts, and anything else as a bare 500 — never a message or a
 * stack of an unexpected error (that goes to the log only).
 */
export function renderProblem(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof OrdersApiError && error.expose) {
    return sendProblem(reply, error.status, error.code, error.message)
  }
  if ('validation' in error && error.validation !== undefined) {
    // Ajv's message names the failing path and rule (`body/items/0/quantity must be <= 100`),
    // never the value sent.
    return sendProblem(reply, 400, 'invalid_request', error.message)
  }
  const status = 'statusCode' in error ? error.statusCode : undefined
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sendProblem(reply, status, 'invalid_request', FRAMEWORK_DETAILS[status] ?? 'bad request')
  }
  request.log.error({ err: error }, 'unexpected error')
  return sendProblem(reply, 500, 'server_error', 'the server could not process the request')
}

/**
 * For Fastify's `frameworkErrors`: a URL that cannot be decoded (400) or a path parameter over
 * `maxParamLength` (414), refused by the router before any hook runs.
 */
export function renderFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const status = error.statusCode === 414 ? 414 : 400
  return sendProblem(reply, status, 'invalid_request', FRAMEWORK_DETAILS[status] ?? 'bad request')
}

export function renderNotFound(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, 404, 'not_found', 'no such resource')
}
