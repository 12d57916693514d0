import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'

/**
 * Opaque credentials in the shape secret scanners recognise (as GitHub's tokens):
 * `<prefix>_<43 base62 chars of 256-bit randomness><6 base62 chars of CRC32>`.
 * The checksum lets the server refuse a mistyped or forged value without a store lookup, and lets
 * scanners tell a real leak from noise. Security rests on the randomness, never on the checksum.
 */
export const OPAQUE_PREFIXES = {
  access_token: 'gat',
  refresh_token: 'grt',
  authorization_code: 'gac',
  client_secret: 'gcs',
  session: 'gls',
  request_uri: 'gpr',
  interaction: 'gix',
} as const
export type OpaqueKind = keyof typeof OPAQUE_PREFIXES

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const BODY_LENGTH = 43 // ceil(256 / log2(62))
const CHECKSUM_LENGTH = 6 // 62^6 > 2^32

/** Uniform random base62: bytes ≥ 248 (= 4 × 62) are dropped, so every character has p = 1/62. */
function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte >= 248) continue
      out += ALPHABET.charAt(byte % 62)
      if (out.length === length) break
    }
  }
  return out
}

function checksum(body: string): string {
  let rest = crc32(body)
  let out = ''
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET.charAt(rest % 62) + out
    rest = Math.floor(rest / 62)
  }
  return out
}

export function generateOpaque(kind: OpaqueKind): string {
  // 43 characters × log2(62) ≈ 256 bits of entropy.
  const body = randomBase62(BODY_LENGTH)
  return `${OPAQUE_PREFIXES[kind]}_${body}${checksum(body)}`
}

const SHAPE = /^([a-z]{3})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/

/** True when `value` has the shape and checksum of a credential of `kind`: no store lookup. */
export function isWellFormedOpaque(value: string, kind: OpaqueKind): boolean {
  if (value.length !== OPAQUE_PREFIXES[kind].length + 1 + BODY_LENGTH + CHECKSUM_LENGTH)
    return false
  const match = SHAPE.exec(value)
  if (match === null || match[1] !== OPAQUE_PREFIXES[kind]) return false
  return checksum(match[2] ?? '') === match[3]
}

/** The kind of a well-formed opaque credential, or null. */
export function opaqueKindOf(value: string): OpaqueKind | null {
  for (const kind of Object.keys(OPAQUE_PREFIXES) as OpaqueKind[]) {
    if (isWellFormedOpaque(value, kind)) return kind
  }
  return null
}
