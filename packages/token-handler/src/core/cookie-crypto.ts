import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { InvalidCookie } from '../errors.js'

/**
 * Sealed cookie values: AES-256-GCM (node:crypto), authenticated, with the key id in the value so
 * keys rotate without logging anyone out (one key seals, every configured key opens).
 *
 *   base64url( version(1) | kidLength(1) | kid | iv(12) | ciphertext | tag(16) )
 *
 * The associated data binds the cookie's NAME and the header, so a value sealed for the
 * access-token cookie cannot be replayed in the refresh-token cookie's place, and a changed key
 * id or version fails authentication. Every failure to open is an `InvalidCookie` with a reason;
 * nothing here throws anything else on client input.
 *
 * Written by hand because no maintained library does name-bound, key-rotating AES-GCM cookies
 * without also bringing an HTTP framework (iron-webcrypto has no rotation by key id).
 */
export const COOKIE_FORMAT_VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** Browsers keep at most ~4096 bytes per cookie; anything longer is not ours. */
export const MAX_SEALED_LENGTH = 4000

export interface CookieKey {
  readonly id: string
  /** 32 random bytes. */
  readonly key: Uint8Array
}

export interface CookieSealerOptions {
  readonly keys: readonly CookieKey[]
  /** The id of the key that seals; every key in `keys` opens. */
  readonly currentKeyId: string
}

export interface CookieSealer {
  /** Seals `plaintext` for the cookie called `name`. */
  seal(name: string, plaintext: string): string
  /** Opens a value sealed for the cookie called `name`; throws `InvalidCookie` on anything else. */
  open(name: string, sealed: string): string
}

export function createCookieSealer(options: CookieSealerOptions): CookieSealer {
  const keys = new Map<string, Buffer>()
  for (const { id, key } of options.keys) {
    if (!KEY_ID.test(id)) throw new TypeError(`cookie key id ${JSON.stringify(id)} is invalid`)
    if (key.byteLength !== KEY_BYTES) throw new TypeError(`cookie key ${id} must be 32 bytes`)
    if (keys.has(id)) throw new TypeError(`cookie key id ${id} is configured twice`)
    keys.set(id, Buffer.from(key))
  }
  const currentKey = keys.get(options.currentKeyId)
  if (currentKey === undefined) {
    throw new TypeError(`the current cookie key ${options.currentKeyId} is not configured`)
  }
  const currentHeader = header(options.currentKeyId)

  return {
    seal(name, plaintext) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(associatedData(name, currentHeader))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const sealed = Buffer.concat([currentHeader, iv, body, cipher.getAuthTag()]).toString(
        'base64url',
      )
      if (sealed.length > MAX_SEALED_LENGTH) {
        throw new RangeError(`the sealed ${name} cookie would exceed ${MAX_SEALED_LENGTH} bytes`)
      }
      return sealed
    },

    open(name, sealed) {
      if (sealed.length === 0 || sealed.length > MAX_SEALED_LENGTH || !BASE64URL.test(sealed)) {
        throw new InvalidCookie('the cookie is malformed', 'cookie.malformed')
      }
      const bytes = Buffer.from(sealed, 'base64url')
      if (bytes.byteLength < 2)
        throw new InvalidCookie('the cookie is malformed', 'cookie.truncated')
      if (bytes[0] !== COOKIE_FORMAT_VERSION) {
        throw new InvalidCookie('the cookie is malformed', 'cookie.unknown_version')
      }
      const kidLength = bytes[1] ?? 0
      const headerLength = 2 + kidLength
      if (kidLength === 0 || bytes.byteLength < headerLength + IV_BYTES + TAG_BYTES) {
        throw new InvalidCookie('the cookie is malformed', 'cookie.truncated')
      }
      const kid = bytes.subarray(2, headerLength).toString('latin1')
      const key = keys.get(kid)
      if (key === undefined) {
        throw new InvalidCookie('the cookie is malformed', 'cookie.unknown_key')
      }
      const iv = bytes.subarray(headerLength, headerLength + IV_BYTES)
      const tag = bytes.subarray(bytes.byteLength - TAG_BYTES)
      const body = bytes.subarray(headerLength + IV_BYTES, bytes.byteLength - TAG_BYTES)
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
        decipher.setAAD(associatedData(name, bytes.subarray(0, headerLength)))
        decipher.setAuthTag(tag)
        const plain = Buffer.concat([decipher.update(body), decipher.final()])
        return new TextDecoder('utf-8', { fatal: true }).decode(plain)
      } catch (cause) {
        // Wrong key material, a flipped bit, or a value sealed for another cookie name.
        throw new InvalidCookie('the cookie is malformed', 'cookie.authentication_failed', {
          cause,
        })
      }
    },
  }
}

function header(kid: string): Buffer {
  const id = Buffer.from(kid, 'latin1')
  return Buffer.concat([Buffer.from([COOKIE_FORMAT_VERSION, id.byteLength]), id])
}

function associatedData(name: string, headerBytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`gatehouse-cookie\0${name}\0`, 'utf8'), headerBytes])
}
