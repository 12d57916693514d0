import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * TOTP (RFC 6238, HMAC-SHA1, 30 s steps, 6 digits: what every authenticator app supports).
 * Written with node:crypto rather than a library: the algorithm is ~20 lines (RFC 4226 §5.3
 * dynamic truncation), it is checked against the RFC 6238 Appendix B test vectors, and it lets
 * the server enforce what libraries leave to callers: a ±1 step window and no code accepted
 * twice (the step is remembered per user).
 */
const STEP_SECONDS = 30
const DIGITS = 6
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export function generateTotpSecret(): string {
  return base32Encode(randomBytes(20))
}

export function base32Encode(bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32.charAt((value >>> (bits - 5)) & 31)
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32.charAt((value << (5 - bits)) & 31)
  return out
}

export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/=+$/, '')
  let bits = 0
  let value = 0
  const out: number[] = []
  for (const char of clean) {
    const index = BASE32.indexOf(char)
    if (index < 0) throw new TypeError('invalid base32')
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** RFC 4226 HOTP over a counter, `digits` long. */
export function hotp(
  secret: Uint8Array,
  counter: number,
  digits = DIGITS,
  algorithm = 'sha1',
): string {
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const mac = createHmac(algorithm, secret).update(message).digest()
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f
  const binary = mac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / STEP_SECONDS)
}

/**
 * Checks a code against the steps now-1, now and now+1; returns the matching step, or null.
 * A step at or before `lastAcceptedStep` is refused (replay).
 */
export function verifyTotp(
  secretBase32: string,
  code: string,
  nowMs: number,
  lastAcceptedStep: number | null,
): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const secret = base32Decode(secretBase32)
  const current = totpStep(nowMs)
  let matched: number | null = null
  for (const step of [current - 1, current, current + 1]) {
    const expected = Buffer.from(hotp(secret, step))
    // Every candidate is compared, so timing does not reveal which step matched.
    if (timingSafeEqual(expected, Buffer.from(code)) && matched === null) matched = step
  }
  if (matched === null || (lastAcceptedStep !== null && matched <= lastAcceptedStep)) return null
  return matched
}

/** The `otpauth://` URI authenticator apps scan. */
export function totpUri(issuer: string, username: string, secretBase32: string): string {
  const label = encodeURIComponent(`${issuer}:${username}`)
  return `otpauth://totp/${label}?secret=${secretBase32}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`
}
