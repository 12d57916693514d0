import { InvalidCookie } from '../errors.js'
import type { CookieSealer } from './cookie-crypto.js'

/**
 * The token handler's cookies. Every one is HttpOnly, Secure, SameSite=Strict, holds a sealed
 * value (cookie-crypto.ts) and is scoped to the narrowest path that needs it:
 *
 * | kind    | holds                           | path              | lifetime                       |
 * | ------- | ------------------------------- | ----------------- | ------------------------------ |
 * | access  | the opaque access token         | `apiPath`         | the access token's `expires_in` |
 * | refresh | the refresh token               | `basePath`        | the session's absolute lifetime |
 * | id      | the ID token (claims, logout)   | `basePath`        | the session's absolute lifetime |
 * | csrf    | the CSRF token                  | `/`               | the session's absolute lifetime |
 * | login   | state, PKCE verifier, nonce     | `basePath/login`  | the login timeout               |
 *
 * A cookie on `/` without a Domain gets the `__Host-` prefix (the browser then refuses it from a
 * sibling subdomain or over HTTP); any other gets `__Secure-`. `clearAll()` clears each cookie
 * with exactly the name, path and domain it was set with, or the browser would keep it.
 */
export type CookieKind = 'access' | 'refresh' | 'id' | 'csrf' | 'login'
export const COOKIE_KINDS: readonly CookieKind[] = ['access', 'refresh', 'id', 'csrf', 'login']

const SUFFIX: Record<CookieKind, string> = {
  access: 'at',
  refresh: 'rt',
  id: 'id',
  csrf: 'csrf',
  login: 'login',
}

export interface CookieSettings {
  /** Cookie names are `__Host-<prefix>-at` etc. */
  readonly namePrefix: string
  /** Set only when the SPA and the API are on sibling hosts; it rules out `__Host-`. */
  readonly domain?: string | undefined
  /** The token handler's path prefix (`''` when at the root). */
  readonly basePath: string
  /** The path the access-token cookie is sent to (the APIs behind the gateway). */
  readonly apiPath: string
}

export interface CookieSpec {
  readonly name: string
  readonly path: string
  readonly domain: string | undefined
}

export interface SealedPayload {
  /** The sealed value: a token, or the JSON of the login state. */
  readonly value: string
  /** Epoch seconds after which the token handler no longer accepts it. */
  readonly expiresAt: number
}

export type OpenedCookie =
  | { readonly status: 'absent' }
  | { readonly status: 'expired' }
  | ({ readonly status: 'valid' } & SealedPayload)

export interface CookieJar {
  readonly specs: Readonly<Record<CookieKind, CookieSpec>>
  /**
   * Opens the cookie of `kind` from a Cookie header: absent, expired, or valid. A value that does
   * not open (tampered, truncated, swapped, unknown key) throws `InvalidCookie`.
   */
  open(cookieHeader: string | undefined, kind: CookieKind): OpenedCookie
  /** `Set-Cookie` for a sealed `value`, living `maxAgeSeconds` (and accepted until then). */
  set(kind: CookieKind, value: string, maxAgeSeconds: number): string
  /** `Set-Cookie` that deletes the cookie of `kind` with its exact name, path and domain. */
  clear(kind: CookieKind): string
  clearAll(): string[]
}

export function createCookieJar(
  settings: CookieSettings,
  sealer: CookieSealer,
  now: () => number,
): CookieJar {
  const base = settings.basePath === '' ? '/' : settings.basePath
  const paths: Record<CookieKind, string> = {
    access: settings.apiPath,
    refresh: base,
    id: base,
    csrf: '/',
    login: `${settings.basePath}/login`,
  }
  const specs = Object.fromEntries(
    COOKIE_KINDS.map((kind) => {
      const path = paths[kind]
      const prefix = path === '/' && settings.domain === undefined ? '__Host-' : '__Secure-'
      const spec: CookieSpec = {
        name: `${prefix}${settings.namePrefix}-${SUFFIX[kind]}`,
        path,
        domain: settings.domain,
      }
      return [kind, Object.freeze(spec)]
    }),
  ) as Record<CookieKind, CookieSpec>

  function attributes(spec: CookieSpec): string {
    const domain = spec.domain === undefined ? '' : `; Domain=${spec.domain}`
    return `; Path=${spec.path}${domain}; HttpOnly; Secure; SameSite=Strict`
  }

  const nowSeconds = () => Math.floor(now() / 1000)

  function clear(kind: CookieKind): string {
    const spec = specs[kind]
    return `${spec.name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${attributes(spec)}`
  }

  return {
    specs: Object.freeze(specs),

    open(cookieHeader, kind) {
      const spec = specs[kind]
      const candidates = cookieValues(cookieHeader, spec.name)
      if (candidates.length === 0) return { status: 'absent' }
      // The same name may arrive twice (a stale cookie on another path): the first that opens wins.
      let failure: unknown
      for (const sealed of candidates) {
        try {
          const payload = parsePayload(sealer.open(spec.name, sealed))
          if (payload.expiresAt <= nowSeconds()) return { status: 'expired' }
          return { status: 'valid', ...payload }
        } catch (error) {
          failure ??= error
        }
      }
      throw failure
    },

    set(kind, value, maxAgeSeconds) {
      const spec = specs[kind]
      const seconds = Math.max(0, Math.floor(maxAgeSeconds))
      const payload = JSON.stringify({ v: value, exp: nowSeconds() + seconds })
      const sealed = sealer.seal(spec.name, payload)
      return `${spec.name}=${sealed}; Max-Age=${seconds}${attributes(spec)}`
    },

    clear,

    clearAll() {
      return COOKIE_KINDS.map(clear)
    },
  }
}

function parsePayload(json: string): SealedPayload {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    throw new InvalidCookie('the cookie is malformed', 'cookie.payload')
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !('v' in parsed) ||
    !('exp' in parsed) ||
    typeof parsed.v !== 'string' ||
    typeof parsed.exp !== 'number'
  ) {
    throw new InvalidCookie('the cookie is malformed', 'cookie.payload')
  }
  return { value: parsed.v, expiresAt: parsed.exp }
}

/**
 * The values of every cookie called `name` in a Cookie header (RFC 6265 §5.4). Hand-written: the
 * token handler only ever looks up its own five names, and the `cookie` package's current major
 * needs Node 22.
 */
export function cookieValues(cookieHeader: string | undefined, name: string): string[] {
  if (cookieHeader === undefined || cookieHeader === '') return []
  const values: string[] = []
  for (const pair of cookieHeader.split(';')) {
    const separator = pair.indexOf('=')
    if (separator === -1) continue
    if (pair.slice(0, separator).trim() !== name) continue
    let value = pair.slice(separator + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1)
    }
    // An emptied cookie is a cookie that is not there.
    if (value !== '') values.push(value)
  }
  return values
}
