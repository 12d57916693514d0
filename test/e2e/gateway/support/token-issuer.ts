import { randomUUID } from 'node:crypto'
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
  close(): Promise<void>
}

/** A local issuer for the `jwt` method: an ES256 key, its JWKS served over HTTPS, tokens signed with jose. */
export async function startTokenIssuer(pki: TestPki, audience: string): Promise<TokenIssuer> {
  const kid = randomUUID()
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const foreign = await generateKeyPair('ES256', { extractable: true })
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
  })
  const server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
      .end(jwks)
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
