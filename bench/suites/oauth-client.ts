import { Agent, request } from 'undici'
import { BENCH_SCOPE } from '../servers/bench-oauth.js'

/**
 * The few OAuth calls the suites make outside the measured rounds (to check that a server
 * answers what the measurement assumes, and to prepare tokens), over HTTPS trusting the
 * suite's CA. Every unexpected answer throws: a benchmark never measures a failing setup.
 */
export interface OAuthClient {
  getJson(url: string): Promise<Record<string, unknown>>
  /** client_credentials with client_secret_basic; returns the access token. */
  clientCredentials(tokenEndpoint: string, clientId: string, secret: string): Promise<string>
  /** RFC 7662 introspection, authenticated with client_secret_basic; returns the JSON answer. */
  introspect(
    endpoint: string,
    clientId: string,
    secret: string,
    token: string,
  ): Promise<Record<string, unknown>>
  close(): Promise<void>
}

export const FORM = 'application/x-www-form-urlencoded'
export const CLIENT_CREDENTIALS_BODY = `grant_type=client_credentials&scope=${encodeURIComponent(BENCH_SCOPE)}`

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`
}

export function createOAuthClient(caCert: string): OAuthClient {
  const dispatcher = new Agent({ connect: { ca: caCert } })
  async function json(
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  ): Promise<Record<string, unknown>> {
    const response = await request(url, { ...init, dispatcher })
    const text = await response.body.text()
    if (response.statusCode !== 200) {
      throw new Error(
        `${init.method} ${url} answered ${response.statusCode}: ${text.slice(0, 300)}`,
      )
    }
    return JSON.parse(text) as Record<string, unknown>
  }
  return {
    getJson: (url) => json(url, { method: 'GET' }),
    async clientCredentials(tokenEndpoint, clientId, secret) {
      const answer = await json(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: basicAuthorization(clientId, secret), 'content-type': FORM },
        body: CLIENT_CREDENTIALS_BODY,
      })
      if (typeof answer.access_token !== 'string') {
        throw new Error(`${tokenEndpoint}: no access_token for ${clientId}`)
      }
      return answer.access_token
    },
    introspect: (endpoint, clientId, secret, token) =>
      json(endpoint, {
        method: 'POST',
        headers: { authorization: basicAuthorization(clientId, secret), 'content-type': FORM },
        body: `token=${encodeURIComponent(token)}`,
      }),
    close: () => dispatcher.close(),
  }
}
