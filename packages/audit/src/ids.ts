import { randomFillSync } from 'node:crypto'
import { v7 } from 'uuid'

/**
 * Time-ordered identifiers (RFC 9562 UUIDv7: 48 bits of milliseconds, then 74 random bits) for
 * audit event ids, request ids and token `jti`s. Every store indexes these columns; a random
 * UUIDv4 lands on a random page of each index, so every insert dirties (and makes SQLite write
 * to its WAL, and checkpoint) another 4 KiB page, while ids that grow with time append to the
 * same few pages. They are identifiers, not secrets: the time they reveal is in the event or
 * token already (`time`, `iat`).
 *
 * The `uuid` package formats the id. Its default random source makes one WebCrypto call per id
 * (~4 µs); the random bytes here come from a 4 KiB buffer refilled with `randomFillSync` once
 * every 256 ids (what `crypto.randomUUID` does internally), and no byte is ever used twice.
 */
const POOL_BYTES = 4096
const ID_BYTES = 16
const pool = Buffer.allocUnsafe(POOL_BYTES)
let offset = POOL_BYTES

export function timeOrderedId(msecs: number = Date.now()): string {
  if (offset + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  const random = pool.subarray(offset, offset + ID_BYTES)
  offset += ID_BYTES
  return v7({ random, msecs })
}
