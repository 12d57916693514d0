import { createPublicKey, randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { BenchPki } from '../harness/bench-pki.js'
import { BENCH_AUDIENCE, BENCH_SCOPE } from '../servers/bench-oauth.js'

/** An ES256 issuer the suite controls: it signs the bearer tokens and serves their JWKS over HTTPS. */
export interface LocalIssuer {
  readonly issuer: string
  readonly jwksUri: string
  /** The public key as a PEM file: what HAProxy's `jwt_verify` needs. */
  readonly publicKeyFile: string
  /** An RFC 9068 access token for the bench audience, valid for an hour unless overridden. */
  sign(subject: string, overrides?: TokenOverrides): Promise<string>
  close(): Promise<void>
}

export const LOCAL_ISSUER = 'https://issuer.bench.test'

/** For the tokens every verifier must refuse: another audience, or expired. */
export interface TokenOverrides {
  readonly audience?: string
  /** Seconds since the epoch. */
  readonly expiresAt?: number
}

/**
 * The JWKS the gateway's `jwt` route fetches (once, then cached) and the key HAProxy verifies
 * with. Served from the benchmark process: it is out of the measured path after the first fetch.
 */
export async function startLocalIssuer(pki: BenchPki): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = 'bench-es256'
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }
  const jwks = JSON.stringify({ keys: [publicJwk] })
  const publicKeyFile = join(pki.dir, 'issuer-public.pem')
  const pem = createPublicKey({ key: publicJwk, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  })
  await writeFile(publicKeyFile, pem)
  const server = createServer({ cert: pki.cert, key: pki.key }, function serveJwks(req, res) {
    if (req.method === 'GET' && req.url === '/jwks') {
      res
        .writeHead(200, {
          'content-type': 'application/jwk-set+json',
          'cache-control': 'max-age=300',
        })
        .end(jwks)
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const now = Math.floor(Date.now() / 1000)
  return {
    issuer: LOCAL_ISSUER,
    jwksUri: `https://127.0.0.1:${port}/jwks`,
    publicKeyFile,
    sign: (subject, overrides = {}) =>
      new SignJWT({ client_id: 'bench-client', scope: BENCH_SCOPE })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer(LOCAL_ISSUER)
        .setAudience(overrides.audience ?? BENCH_AUDIENCE)
        .setSubject(subject)
        .setJti(randomUUID())
        .setIssuedAt(Math.min(now, (overrides.expiresAt ?? now) - 60))
        .setExpirationTime(overrides.expiresAt ?? now + 3600)
        .sign(privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
