import https from 'node:https'
import { IntrospectionUnavailable } from '../../errors.js'

export interface IntrospectionClientOptions {
  readonly issuerName: string
  readonly endpoint: string
  readonly clientId: string
  readonly clientSecret: string
  readonly timeoutMs: number
  readonly ca?: string
}

export type IntrospectionResult =
  | { readonly active: true; readonly jwt: string }
  | { readonly active: false }

export interface IntrospectionClient {
  readonly issuerName: string
  /** Rejects with `IntrospectionUnavailable` when the server cannot answer; never for an inactive token. */
  introspect(token: string): Promise<IntrospectionResult>
  close(): void
}

const MAX_RESPONSE_BYTES = 64 * 1024

/**
 * RFC 7662 introspection as the gateway's own client (client_secret_basic, RFC 6749 §2.3.1),
 * asking for the JWT form with `Accept: application/jwt`: an active token is answered with the
 * JWT itself (`Content-Type: application/jwt`), an inactive one with `{"active":false}` (or 204).
 * Any other answer — unreachable, timeout, 5xx, our credentials refused — is an outage of the
 * authorization server, not a verdict on the token.
 */
export function createIntrospectionClient(
  options: IntrospectionClientOptions,
): IntrospectionClient {
  const endpoint = new URL(options.endpoint)
  const agent = new https.Agent({
    keepAlive: true,
    minVersion: 'TLSv1.2',
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  })
  const basic = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')
  return {
    issuerName: options.issuerName,
    introspect(token) {
      const body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString()
      return new Promise<IntrospectionResult>((resolve, reject) => {
        const unavailable = (detail: string, cause?: unknown) =>
          reject(new IntrospectionUnavailable({ detail, cause }))
        const request = https.request(endpoint, {
          agent,
          method: 'POST',
          timeout: options.timeoutMs,
          headers: {
            authorization: `Basic ${basic}`,
            accept: 'application/jwt, application/json;q=0.5',
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        })
        request.once('timeout', () => request.destroy(new Error('introspection timed out')))
        request.once('error', (error) => unavailable('introspection request failed', error))
        request.once('response', (response) => {
          const chunks: Buffer[] = []
          let size = 0
          response.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_RESPONSE_BYTES)
              response.destroy(new Error('introspection answer too large'))
            else chunks.push(chunk)
          })
          response.once('error', (error) => unavailable('introspection answer failed', error))
          response.once('end', () => {
            const status = response.statusCode ?? 0
            const type = (response.headers['content-type'] ?? '')
              .split(';')[0]
              ?.trim()
              .toLowerCase()
            const text = Buffer.concat(chunks).toString('utf8').trim()
            if (status === 204) return resolve({ active: false })
            if (status !== 200) return unavailable(`introspection answered ${status}`)
            if (type === 'application/jwt') {
              if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text)) return unavailable('malformed JWT answer')
              return resolve({ active: true, jwt: text })
            }
            if (type === 'application/json') {
              try {
                const parsed = JSON.parse(text) as { active?: unknown }
                if (parsed.active === false) return resolve({ active: false })
              } catch {
                return unavailable('introspection answer is not JSON')
              }
              return unavailable(
                'introspection answered JSON for an active token, not its JWT form',
              )
            }
            return unavailable(`unexpected introspection content type ${type ?? ''}`)
          })
        })
        request.end(body)
      })
    },
    close() {
      agent.destroy()
    },
  }
}
