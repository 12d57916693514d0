import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { BearerError } from '../errors.js'
import type { VerifiedToken } from '../types.js'
import { createJwtPreHandler, jwtAuth, jwtErrorHandler, requireScope } from './fastify.js'
import {
  type AdapterFixture,
  CHALLENGE_OPTIONS,
  createAdapterFixture,
  EXPECTED,
  expectBearerFailure,
  expectNoLeak,
  OTHER_USERS_ORDER,
  orderPolicy,
  PATHS,
  SCENARIOS,
  scenarioUrl,
  send,
  sendRaw,
} from './test-support/adapter-fixture.js'

let fixture: AdapterFixture
let app: FastifyInstance
let base: string
let port: number
const reasons: string[] = []

async function answerToken(request: FastifyRequest) {
  const token = request.auth
  return { subject: token?.subject, clientId: token?.clientId, scopes: [...(token?.scopes ?? [])] }
}

beforeAll(async () => {
  fixture = await createAdapterFixture()
  app = Fastify({ logger: false })
  // A real form parser, so the body check sees a parsed urlencoded body as @fastify/formbody gives.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )

  await app.register(async function publicApi(api) {
    api.get('/health', async () => ({ ok: true }))
  })

  await app.register(
    async function outageApi(api) {
      await api.register(jwtAuth, { validator: fixture.unavailableValidator, ...CHALLENGE_OPTIONS })
      api.get(PATHS.orders, answerToken)
    },
    { prefix: PATHS.outage },
  )

  await app.register(async function ordersApi(api) {
    await api.register(jwtAuth, {
      validator: fixture.validator,
      ...CHALLENGE_OPTIONS,
      onError: (error) => reasons.push(error instanceof BearerError ? error.reason : String(error)),
    })
    api.setErrorHandler(jwtErrorHandler(CHALLENGE_OPTIONS))
    api.get(PATHS.orders, answerToken)
    api.post(PATHS.orders, answerToken)
    api.get(PATHS.write, { preHandler: requireScope('orders:write') }, answerToken)
    api.get('/read', { preHandler: requireScope('orders:read') }, answerToken)
    api.post(PATHS.cancel, async function cancelOrder(request) {
      if (request.auth === undefined) throw new Error('unreachable: jwtAuth ran')
      orderPolicy.assert('cancel', request.auth, OTHER_USERS_ORDER)
      return { cancelled: true }
    })
    api.get('/broken', async function brokenHandler() {
      throw new Error('database password is hunter2')
    })
  })

  app.get(
    '/scoped',
    {
      preHandler: createJwtPreHandler({
        validator: fixture.validator,
        ...CHALLENGE_OPTIONS,
        scopes: ['orders:write'],
      }),
    },
    answerToken,
  )

  base = await app.listen({ port: 0, host: '127.0.0.1' })
  port = Number(new URL(base).port)
})

afterAll(async () => {
  await app.close()
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('jwtAuth on a real Fastify 5 server', () => {
  it.each(SCENARIOS)('answers $name', async (scenario) => {
    const authorization = scenario.authorization?.(fixture.tokens)
    const response = await send(scenarioUrl(base, scenario, fixture.tokens), {
      method: scenario.method ?? 'GET',
      headers: authorization === undefined ? {} : { authorization },
    })
    expectBearerFailure(response, scenario.expected, fixture)
  })

  it('refuses a request with two Authorization headers (raw socket)', async () => {
    const response = await sendRaw(port, [
      `GET ${PATHS.orders} HTTP/1.1`,
      `AUTHORIZATION: Bearer ${fixture.tokens.valid}`,
      `Authorization: Bearer ${fixture.tokens.expired}`,
    ])
    expectBearerFailure(response, EXPECTED.multipleHeaders, fixture)
  })

  it('refuses a token in a form body, with no header (400)', async () => {
    const response = await send(`${base}${PATHS.orders}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${fixture.tokens.valid}`,
    })
    expectBearerFailure(response, EXPECTED.tokenInBody, fixture)
  })

  it('refuses a token in a JSON body even next to a valid header (400)', async () => {
    const response = await send(`${base}${PATHS.orders}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(fixture.tokens.valid) },
      body: JSON.stringify({ access_token: fixture.tokens.valid }),
    })
    expectBearerFailure(response, EXPECTED.tokenInBody, fixture)
  })

  it('exposes the verified claims as request.auth on the happy path', async () => {
    const response = await send(`${base}${PATHS.orders}`, { headers: bearer(fixture.tokens.valid) })
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({
      subject: 'user-1',
      clientId: 'client-1',
      scopes: ['orders:read', 'profile'],
    })
    expectNoLeak(response, fixture)
  })

  it('protects only the routes of the plugin it is registered in', async () => {
    const response = await send(`${base}/health`)
    expect(response.status).toBe(200)
  })

  it('lets a request through requireScope when every scope is granted', async () => {
    const response = await send(`${base}/read`, { headers: bearer(fixture.tokens.valid) })
    expect(response.status).toBe(200)
  })

  it('enforces the scopes option on a route-level preHandler (403 insufficient_scope)', async () => {
    const response = await send(`${base}/scoped`, { headers: bearer(fixture.tokens.valid) })
    expectBearerFailure(response, EXPECTED.insufficientScope, fixture)
  })

  it('rethrows errors that are not Gatehouse errors to Fastify, without a stack', async () => {
    const response = await send(`${base}/broken`, { headers: bearer(fixture.tokens.valid) })
    expect(response.status).toBe(500)
    expect(response.headers.get('www-authenticate')).toBeNull()
    expectNoLeak(response, fixture)
  })

  it('reports failures to onError with their reason, requireScope denials included', async () => {
    reasons.length = 0
    await send(`${base}${PATHS.orders}`, { headers: { authorization: 'Bearer' } })
    await send(`${base}${PATHS.write}`, { headers: bearer(fixture.tokens.valid) })
    expect(reasons).toEqual(['bearer.malformed_header', 'scope.insufficient'])
  })

  it('types request.auth as the verified token on every Fastify request', () => {
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<VerifiedToken | undefined>()
  })
})
