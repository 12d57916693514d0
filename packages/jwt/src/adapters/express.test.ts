import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Request, type Response } from 'express'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { BearerError } from '../errors.js'
import type { VerifiedToken } from '../types.js'
import { jwtAuth, jwtErrorHandler, requireScope } from './express.js'
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
let server: Server
let base: string
let port: number
const reasons: string[] = []

function answerToken(req: Request, res: Response): void {
  const token = req.auth
  res.json({
    subject: token?.subject,
    clientId: token?.clientId,
    scopes: [...(token?.scopes ?? [])],
  })
}

beforeAll(async () => {
  fixture = await createAdapterFixture()
  const app = express()
  app.use(express.json())
  app.use(express.urlencoded({ extended: true }))

  const outage = express.Router()
  outage.use(jwtAuth({ validator: fixture.unavailableValidator, ...CHALLENGE_OPTIONS }))
  outage.get(PATHS.orders, answerToken)
  app.use(PATHS.outage, outage)

  const scoped = express.Router()
  scoped.use(
    jwtAuth({ validator: fixture.validator, ...CHALLENGE_OPTIONS, scopes: ['orders:write'] }),
  )
  scoped.get('/', answerToken)
  app.use('/scoped', scoped)

  app.use(
    jwtAuth({
      validator: fixture.validator,
      ...CHALLENGE_OPTIONS,
      onError: (error) => reasons.push(error instanceof BearerError ? error.reason : String(error)),
    }),
  )
  app.get(PATHS.orders, answerToken)
  app.post(PATHS.orders, answerToken)
  app.get(PATHS.write, requireScope('orders:write'), answerToken)
  app.get('/read', requireScope('orders:read', 'profile'), answerToken)
  app.post(PATHS.cancel, function cancelOrder(req, res) {
    if (req.auth === undefined) throw new Error('unreachable: jwtAuth ran')
    orderPolicy.assert('cancel', req.auth, OTHER_USERS_ORDER)
    res.json({ cancelled: true })
  })
  app.post('/orders/43/cancel', async function cancelOrderLater(req, res) {
    await Promise.resolve()
    if (req.auth === undefined) throw new Error('unreachable: jwtAuth ran')
    orderPolicy.assert('cancel', req.auth, OTHER_USERS_ORDER)
    res.json({ cancelled: true })
  })
  app.get('/broken', function brokenHandler() {
    throw new Error('database password is hunter2')
  })
  app.use(jwtErrorHandler(CHALLENGE_OPTIONS))
  app.use(function applicationErrorHandler(
    _error: unknown,
    _req: Request,
    res: Response,
    _next: express.NextFunction,
  ) {
    res.status(500).json({ handledBy: 'application' })
  })

  server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  port = (server.address() as AddressInfo).port
  base = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('jwtAuth on a real Express 5 server', () => {
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
      `Authorization: Basic dXNlcjpwYXNz`,
      `Authorization: Bearer ${fixture.tokens.valid}`,
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

  it('refuses a token in a nested form field, access_token[x] (400)', async () => {
    const response = await send(`${base}${PATHS.orders}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...bearer(fixture.tokens.valid),
      },
      body: `access_token[x]=${fixture.tokens.valid}`,
    })
    expectBearerFailure(response, EXPECTED.tokenInBody, fixture)
  })

  it('exposes the verified claims as req.auth on the happy path', async () => {
    const response = await send(`${base}${PATHS.orders}`, { headers: bearer(fixture.tokens.valid) })
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({
      subject: 'user-1',
      clientId: 'client-1',
      scopes: ['orders:read', 'profile'],
    })
    expectNoLeak(response, fixture)
  })

  it('lets a request through requireScope when every scope is granted', async () => {
    const response = await send(`${base}/read`, { headers: bearer(fixture.tokens.valid) })
    expect(response.status).toBe(200)
  })

  it('enforces the scopes option of jwtAuth itself (403 insufficient_scope)', async () => {
    const response = await send(`${base}/scoped`, { headers: bearer(fixture.tokens.valid) })
    expectBearerFailure(response, EXPECTED.insufficientScope, fixture)
  })

  it('renders AccessDenied rejected by an async handler (403)', async () => {
    const response = await send(`${base}/orders/43/cancel`, {
      method: 'POST',
      headers: bearer(fixture.tokens.valid),
    })
    expectBearerFailure(response, EXPECTED.accessDenied, fixture)
  })

  it('passes errors that are not Gatehouse errors on to the application error handler', async () => {
    const response = await send(`${base}/broken`, { headers: bearer(fixture.tokens.valid) })
    expect(response.status).toBe(500)
    expect(JSON.parse(response.body)).toEqual({ handledBy: 'application' })
  })

  it('reports failures to onError with their reason, requireScope denials included', async () => {
    reasons.length = 0
    await send(`${base}${PATHS.orders}?ACCESS_TOKEN=x`)
    await send(`${base}${PATHS.write}`, { headers: bearer(fixture.tokens.valid) })
    expect(reasons).toEqual(['bearer.token_in_query', 'scope.insufficient'])
  })

  it('refuses to build requireScope without scopes or with an invalid scope', () => {
    expect(() => requireScope()).toThrow(TypeError)
    expect(() => requireScope('a"b')).toThrow(TypeError)
  })

  it('types req.auth as the verified token on every Express request', () => {
    expectTypeOf<Request['auth']>().toEqualTypeOf<VerifiedToken | undefined>()
    expectTypeOf(jwtAuth).returns.toEqualTypeOf<express.RequestHandler>()
  })
})
