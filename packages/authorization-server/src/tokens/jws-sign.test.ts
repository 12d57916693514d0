import { exportJWK, generateKeyPair, importJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { SIGNING_ALGORITHMS } from '../keys/signing-keys.js'
import { signCompactJws } from './jws-sign.js'

describe('signCompactJws', () => {
  for (const alg of SIGNING_ALGORITHMS) {
    it(`signs ${alg} tokens that jose verifies, and a changed payload fails`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, {
        extractable: true,
      })
      // The key ring imports the private key from its JWK, as here.
      const imported = await importJWK(await exportJWK(privateKey), alg)
      if (imported instanceof Uint8Array) throw new Error('expected an asymmetric key')
      const jws = signCompactJws(
        { alg, kid: 'k1', typ: 'at+jwt' },
        { sub: 'client-1', scope: 'orders:read', exp: 4_102_444_800 },
        imported,
      )
      const { payload, protectedHeader } = await jwtVerify(jws, publicKey, {
        algorithms: [alg],
        typ: 'at+jwt',
      })
      expect(protectedHeader).toEqual({ alg, kid: 'k1', typ: 'at+jwt' })
      expect(payload).toEqual({ sub: 'client-1', scope: 'orders:read', exp: 4_102_444_800 })
      const [head, , sig] = jws.split('.')
      const forged = `${head}.${Buffer.from('{"sub":"admin"}').toString('base64url')}.${sig}`
      await expect(jwtVerify(forged, publicKey, { algorithms: [alg] })).rejects.toThrow()
    })
  }
})
