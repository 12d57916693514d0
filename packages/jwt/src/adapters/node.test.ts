import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BearerError } from '../errors.js'
import { createNodeAuthenticator, getVerifiedToken, sendBearerError } from './node.js'
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
const sameTokenFromGetter: boolean[] = []

beforeAll(async () => {
  fixture = await createAdapterFixture()
  const onError = (error: unknown, _req: IncomingMessage) => {
    reasons.push(error instanceof BearerError ? error.reason : String(error))
  }
  const authenticate = createNodeAuthenticator({
    validator: fixture.validator,
    ...CHALLENGE_OPTIONS,
    onError,
  })
  const authenticateWrite = createNodeAuthenticator({
    validator: fixture.validator,
    ...CHALLENGE_OPTIONS,
    scopes: ['orders:write'],
  })
  const authenticateOutage = createNodeAuthenticator({
    validator: fixture.unavailableValidator,
    ...CHALLENGE_OPTIONS,
  })
  server = createServer(async function ordersApi(req, res) {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const authenticator =
      path === PATHS.write
        ? authenticateWrite
        : path.startsWith(PATHS.outage)
          ? authenticateOutage
          : authenticate
    const token = await authenticator(req, res)
    if (token === undefined) return
    sameTokenFromGetter.push(getVerifiedToken(req) === token)
    if (path === PATHS.cancel) {
      try {
        orderPolicy.assert('cancel', token, OTHER_USERS_ORDER)
      } catch (error) {
        sendBearerError(res, error, CHALLENGE_OPTIONS)
        return
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        subject: token.subject,
        clientId: token.clientId,
        scopes: [...token.scopes],
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  base = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('createNodeAuthenticator on a real node:http server', () => {
  it.each(SCENARIOS)('answers $name', async (scenario) => {
    const authorization = scenario.authorization?.(fixture.tokens)
    const response = await send(scenarioUrl(base, scenario, fixture.tokens), {
      method: scenario.method ?? 'GET',
      headers: authorization === undefined ? {} : { authorization },
    })
    expectBearerFailure(response, scenario.expected, fixture)
  })

  it('refuses a request with two Authorization headers, which node:http would reduce to one', async () => {
    const response = await sendRaw(port, [
      `GET ${PATHS.orders} HTTP/1.1`,
      `Authorization: Bearer ${fixture.tokens.valid}`,
      `authorization: Bearer ${fixture.tokens.valid}`,
    ])
    expectBearerFailure(response, EXPECTED.multipleHeaders, fixture)
  })

  it('never reads the body, so a token sent there is not accepted (401, no error code)', async () => {
    const response = await send(`${base}${PATHS.orders}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${fixture.tokens.valid}`,
    })
    expectBearerFailure(response, EXPECTED.missing, fixture)
  })

  it('refuses a percent-encoded access_token query parameter next to a valid header', async () => {
    const response = await send(`${base}${PATHS.orders}?access%5Ftoken=x`, {
      headers: { authorization: `Bearer ${fixture.tokens.valid}` },
    })
    expectBearerFailure(response, EXPECTED.tokenInQuery, fixture)
  })

  it('resolves the verified token, also through getVerifiedToken(req)', async () => {
    sameTokenFromGetter.length = 0
    const response = await send(`${base}${PATHS.orders}`, {
      headers: { authorization: `Bearer ${fixture.tokens.valid}` },
    })
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({
      subject: 'user-1',
      clientId: 'client-1',
      scopes: ['orders:read', 'profile'],
    })
    expect(sameTokenFromGetter).toEqual([true])
    expectNoLeak(response, fixture)
  })

  it('reports the reason of each failure to onError', async () => {
    reasons.length = 0
    await send(`${base}${PATHS.orders}`, {
      headers: { authorization: `Bearer ${fixture.tokens.expired}` },
    })
    await send(`${base}${PATHS.orders}`)
    expect(reasons).toEqual(['jwt.expired', 'bearer.missing'])
  })

  it('refuses bad configuration when created, not per request', () => {
    const validator = fixture.validator
    expect(() => createNodeAuthenticator({ validator, realm: '' })).toThrow(TypeError)
    expect(() => createNodeAuthenticator({ validator, realm: 'a\r\nSet-Cookie: x=1' })).toThrow(
      TypeError,
    )
    expect(() =>
      createNodeAuthenticator({ validator, realm: 'orders', scopes: ['orders read'] }),
    ).toThrow(TypeError)
    expect(() =>
      createNodeAuthenticator({ validator, realm: 'orders', resourceMetadataUrl: '/relative' }),
    ).toThrow(TypeError)
  })
})
