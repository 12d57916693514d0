import { constants, KeyObject, sign } from 'node:crypto'
import type { CryptoKey } from 'jose'
import type { SigningAlgorithm } from '../keys/signing-keys.js'

// The KeyObject form of each imported signing key, made once per key.
const keyObjects = new WeakMap<CryptoKey, KeyObject>()

function keyObjectOf(key: CryptoKey): KeyObject {
  let keyObject = keyObjects.get(key)
  if (keyObject === undefined) {
    keyObject = KeyObject.from(key)
    keyObjects.set(key, keyObject)
  }
  return keyObject
}

function signature(alg: SigningAlgorithm, input: Buffer, key: KeyObject): Buffer {
  switch (alg) {
    case 'ES256':
      // RFC 7518 §3.4: R || S, 32 bytes each (not DER).
      return sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' })
    case 'RS256':
      return sign('sha256', input, key)
    case 'PS256':
      return sign('sha256', input, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      })
    case 'EdDSA':
      return sign(null, input, key)
  }
}

/**
 * A compact JWS (RFC 7515 §7.1) signed synchronously with node:crypto. The token endpoint signs
 * every JWT access token: jose signs through WebCrypto, whose per-call promise and job set-up
 * cost the request thread about as much again as the ES256 signature itself, so this hot path
 * signs with the same key's KeyObject directly (one signature per token, as before). Everything
 * else (ID tokens, signed introspection responses) keeps using jose.
 */
export function signCompactJws(
  header: { readonly alg: SigningAlgorithm; readonly kid: string; readonly typ: string },
  payload: Readonly<Record<string, unknown>>,
  key: CryptoKey,
): string {
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url')
  const encodedPayload = Buffer.from(JSON.stringify(payload)).toString('base64url')
  const input = `${encodedHeader}.${encodedPayload}`
  const signed = signature(header.alg, Buffer.from(input), keyObjectOf(key))
  return `${input}.${signed.toString('base64url')}`
}
