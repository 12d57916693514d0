import { request } from 'node:https'
import type { CryptoKey } from 'jose'
import { KeySetUnavailable, UnknownKeyId } from './errors.js'
import { createKeyIndex, type KeyIndex } from './internal/key-index.js'
import type { JwtHeader, KeySet, Logger } from './types.js'

export interface RemoteJwksOptions {
  /** The issuer's `jwks_uri`. Must be `https:`; redirects are not followed. */
  readonly uri: string | URL
  /** PEM CA certificate(s) to trust for the JWKS endpoint instead of the system store (e.g. the dev CA). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[]
  /** Abort a fetch after this long. Default 5 s. */
  readonly timeoutMs?: number
  /** A token with an unknown `kid` triggers at most one refetch per cooldown. Default 30 s. */
  readonly cooldownMs?: number
  /** Keys are kept for the response's `Cache-Control: max-age`, bounded to [min, max]. */
  readonly minCacheMs?: number
  readonly maxCacheMs?: number
  /** How long keys are kept when the response names no max-age. Default 10 min. */
  readonly defaultCacheMs?: number
  /** After a failed fetch, wait this long before trying again (stale keys are served meanwhile). Default 5 s. */
  readonly retryAfterFailureMs?: number
  /** Refuse JWKS documents larger than this. Default 256 KiB. */
  readonly maxResponseBytes?: number
  readonly logger?: Logger
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number
}

export interface RemoteJwks extends KeySet {
  /** Fetches now (coalesced with a fetch already under way). Resolves `false` when the fetch failed. */
  refresh(): Promise<boolean>
  /** What the cache holds, for health endpoints and tests. */
  status(): RemoteJwksStatus
}

export interface RemoteJwksStatus {
  readonly kids: readonly string[]
  readonly fetches: number
  readonly failures: number
  /** True when the last fetch failed and keys from an earlier fetch are being served. */
  readonly stale: boolean
  readonly freshUntil: number
}

const DEFAULTS = {
  timeoutMs: 5_000,
  cooldownMs: 30_000,
  minCacheMs: 60_000,
  maxCacheMs: 24 * 60 * 60_000,
  defaultCacheMs: 10 * 60_000,
  retryAfterFailureMs: 5_000,
  maxResponseBytes: 256 * 1024,
} as const

/**
 * A verification key set fetched from an issuer's `jwks_uri`: fetched once, cached by the
 * server's `Cache-Control` (bounded), refetched on an unknown `kid` at most once per cooldown
 * (so a flood of random kids cannot hammer the issuer), with concurrent fetches coalesced into
 * one request, and the last good keys served when the issuer is down (stale-if-error).
 */
export function createRemoteJwks(options: RemoteJwksOptions): RemoteJwks {
  const uri = new URL(options.uri)
  if (uri.protocol !== 'https:')
    throw new TypeError(`jwks uri must use https: (got ${uri.protocol})`)
  if (uri.username !== '' || uri.password !== '')
    throw new TypeError('jwks uri must not contain credentials')
  const settings = { ...DEFAULTS }
  for (const name of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[name]
    if (value === undefined) continue
    if (!Number.isFinite(value) || value < 0)
      throw new TypeError(`${name} must be a non-negative number`)
    settings[name] = value as never
  }
  if (settings.minCacheMs > settings.maxCacheMs)
    throw new TypeError('minCacheMs must not exceed maxCacheMs')
  const now = options.now ?? Date.now
  const logger = options.logger ?? warningLogger
  const ca =
    options.ca === undefined
      ? undefined
      : Array.isArray(options.ca)
        ? [...options.ca]
        : (options.ca as string | Buffer)

  let index: KeyIndex | undefined
  let freshUntil = 0
  let lastAttempt = Number.NEGATIVE_INFINITY
  let inflight: Promise<boolean> | undefined
  let fetches = 0
  let failures = 0
  let stale = false

  function refresh(): Promise<boolean> {
    inflight ??= fetchAndIndex().finally(() => {
      inflight = undefined
    })
    return inflight
  }

  async function fetchAndIndex(): Promise<boolean> {
    lastAttempt = now()
    fetches++
    try {
      const { body, maxAgeMs } = await fetchJson(
        uri,
        ca,
        settings.timeoutMs,
        settings.maxResponseBytes,
      )
      const next = createKeyIndex(body, logger)
      if (next.size === 0) throw new Error('the JWK Set has no usable signing keys')
      index = next
      freshUntil =
        now() + clamp(maxAgeMs ?? settings.defaultCacheMs, settings.minCacheMs, settings.maxCacheMs)
      if (stale)
        logger.info({ jwksUri: uri.href }, 'JWKS fetched again; no longer serving stale keys')
      stale = false
      return true
    } catch (error) {
      failures++
      freshUntil = now() + settings.retryAfterFailureMs
      const reason = error instanceof Error ? error.message : String(error)
      if (index !== undefined) {
        stale = true
        logger.warn(
          { jwksUri: uri.href, reason, kids: index.kids },
          'JWKS fetch failed; serving the last good keys (stale-if-error)',
        )
      } else {
        logger.warn({ jwksUri: uri.href, reason }, 'JWKS fetch failed and no keys are cached')
      }
      return false
    }
  }

  async function currentIndex(): Promise<KeyIndex> {
    if (now() >= freshUntil) await refresh()
    if (index === undefined) throw new KeySetUnavailable({ detail: `no keys from ${uri.href}` })
    return index
  }

  return {
    async getKey(header: JwtHeader): Promise<CryptoKey> {
      const keys = await currentIndex()
      if (
        header.kid === undefined ||
        keys.has(header.kid) ||
        now() - lastAttempt < settings.cooldownMs
      ) {
        return keys.select(header)
      }
      // An unknown kid may be a key the issuer has just rotated in: look once, then not again
      // until the cooldown has passed, whatever the number of tokens naming unknown kids.
      await refresh()
      if (index === undefined) throw new UnknownKeyId()
      return index.select(header)
    },
    getKeySync(header: JwtHeader): CryptoKey | undefined {
      if (index === undefined || now() >= freshUntil) return undefined
      return index.selectSync(header)
    },
    refresh,
    status: () => ({ kids: index?.kids ?? [], fetches, failures, stale, freshUntil }),
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}

/** RFC 9111 §5.2.2: `max-age` in seconds; `no-store`/`no-cache` mean "as short as allowed". */
export function parseCacheControlMaxAge(header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const directives = header
    .toLowerCase()
    .split(',')
    .map((part) => part.trim())
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0
  for (const directive of directives) {
    const match = /^max-age=(\d{1,10})$/.exec(directive)
    if (match?.[1] !== undefined) return Number(match[1]) * 1000
  }
  return undefined
}

// node:https rather than fetch(): a custom CA per key set needs no extra dependency this way
// (fetch would need undici's Agent), and the package depends on jose only.
function fetchJson(
  uri: URL,
  ca: string | Buffer | (string | Buffer)[] | undefined,
  timeoutMs: number,
  maxBytes: number,
): Promise<{ body: unknown; maxAgeMs: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      uri,
      {
        method: 'GET',
        headers: { accept: 'application/jwk-set+json, application/json' },
        ...(ca === undefined ? {} : { ca }),
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0
        const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
        if (status !== 200) {
          res.resume()
          reject(new Error(`the JWKS endpoint answered HTTP ${status}`))
          return
        }
        if (type !== 'application/json' && type !== 'application/jwk-set+json') {
          res.resume()
          reject(new Error(`the JWKS endpoint answered content-type ${type || '(none)'}`))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) {
            req.destroy(new Error(`the JWKS document is larger than ${maxBytes} bytes`))
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () => {
          try {
            resolve({
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
              maxAgeMs: parseCacheControlMaxAge(res.headers['cache-control']),
            })
          } catch {
            reject(new Error('the JWKS document is not valid JSON'))
          }
        })
        res.on('error', reject)
      },
    )
    req.on('timeout', () =>
      req.destroy(new Error(`the JWKS endpoint did not answer within ${timeoutMs} ms`)),
    )
    req.on('error', reject)
    req.end()
  })
}

const warningLogger: Logger = {
  warn(fields, message) {
    process.emitWarning(`${message} ${JSON.stringify(fields)}`, { code: 'GATEHOUSE_JWKS' })
  },
  info() {},
}
