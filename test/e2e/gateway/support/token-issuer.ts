import { randomBytes, randomUUID } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import type { TestPki } from './pki.js'

export interface TokenIssuer {
  /** The `iss` of the tokens. */
  readonly issuer: string
  readonly jwksUri: string
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** A token signed by a key the issuer does not publish. */
  signWithForeignKey(claims?: Record<string, unknown>): Promise<string>
  /** Issues an opaque token whose JWT form the introspection endpoint returns. */
  issueOpaque(claims?: Record<string, unknown>): string
  /** Marks an opaque token revoked: introspection answers `{"active":false}` from now on. */
  revokeOpaque(token: string): void
  /** The introspection endpoint (RFC 7662, JWT form on `Accept: application/jwt`). */
  readonly introspectionEndpoint: string
  readonly introspection: {
    calls: number
    /** `error`: answer 500; `slow`: answer after 1 s. */
    mode: 'ok' | 'error' | 'slow'
  }
  close(): Promise<void>
}

/** The gateway's client at the introspection endpoint. */
export const INTROSPECTION_CLIENT = {
  id: 'gatehouse-gateway',
  secret: 'introspection-secret-for-tests',
}

/** A local issuer for the `jwt` method: an ES256 key, its JWKS served over HTTPS, tokens signed with jose. */
export async function startTokenIssuer(pki: TestPki, audience: string): Promise<TokenIssuer> {
  const kid = randomUUID()
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const foreign = await generateKeyPair('ES256', { extractable: true })
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
  })
  const opaque = new Map<string, { claims: Record<string, unknown>; active: boolean }>()
  const introspection = { calls: 0, mode: 'ok' as 'ok' | 'error' | 'slow' }
  const expectedBasic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`
  const server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    if (req.url !== '/introspect') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
      res.end(jwks)
      return
    }
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', async () => {
      introspection.calls++
      if (introspection.mode === 'error') return void res.writeHead(500).end()
      if (introspection.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 1_000))
      if (req.method !== 'POST' || req.headers.authorization !== expectedBasic) {
        res.writeHead(401, { 'content-type': 'application/json' })
        return void res.end('{"error":"invalid_client"}')
      }
      const token = new URLSearchParams(body).get('token') ?? ''
      const entry = opaque.get(token)
      if (
        entry === undefined ||
        !entry.active ||
        req.headers.accept?.startsWith('application/jwt') !== true
      ) {
        res.writeHead(200, { 'content-type': 'application/json' })
        return void res.end('{"active":false}')
      }
      const jwt = await signWith(privateKey, entry.claims, {})
      res.writeHead(200, { 'content-type': 'application/jwt' }).end(jwt)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  async function signWith(
    key: CryptoKey,
    claims: Record<string, unknown>,
    header: Record<string, unknown>,
  ) {
    const now = Math.floor(Date.now() / 1000)
    const payload: Record<string, unknown> = {
      iss: origin,
      aud: audience,
      sub: 'alice',
      client_id: 'orders-app',
      scope: 'orders:read',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    }
    for (const [name, value] of Object.entries(payload))
      if (value === undefined) delete payload[name]
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header })
      .sign(key)
  }
  return {
    issuer: origin,
    jwksUri: `${origin}/jwks`,
    sign: (claims = {}, header = {}) => signWith(privateKey, claims, header),
    signWithForeignKey: (claims = {}) => signWith(foreign.privateKey, claims, {}),
    issueOpaque(claims = {}) {
      const token = randomBytes(32).toString('base64url')
      const now = Math.floor(Date.now() / 1000)
      opaque.set(token, {
        claims: { jti: randomUUID(), iat: now, exp: now + 300, ...claims },
        active: true,
      })
      return token
    },
    revokeOpaque(token) {
      const entry = opaque.get(token)
      if (entry !== undefined) entry.active = false
    },
    introspectionEndpoint: `${origin}/introspect`,
    introspection,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
