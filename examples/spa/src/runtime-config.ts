/**
 * The SPA's runtime configuration, served as `/config.json` by its server and read by the page
 * on load: where the token handler and the gateway are, and which gateway route lists orders.
 * Shared by the server (which checks it once, at start-up) and the browser bundle (which checks
 * what it fetched). Hand-written rather than zod so the browser bundle stays a few kilobytes;
 * the rules are four fields long.
 */
export interface SpaRuntimeConfig {
  /** The token handler's base URL, e.g. `https://localhost:8445` or `https://app.example.com/tokenhandler`. */
  readonly tokenHandlerUrl: string
  /** The gateway's base URL, e.g. `https://localhost:8444`. */
  readonly apiBaseUrl: string
  /** The gateway route (auth `cookie`) that lists the user's orders, e.g. `/spa/api/orders`. */
  readonly ordersPath: string
  /** The header that carries the CSRF token on state-changing calls (token handler `csrf.headerName`). */
  readonly csrfHeaderName: string
}

export type SpaRuntimeConfigInput = Omit<SpaRuntimeConfig, 'csrfHeaderName'> & {
  readonly csrfHeaderName?: string
}

export const DEFAULT_CSRF_HEADER_NAME = 'x-gatehouse-csrf'

/** Checks and normalises a runtime configuration; throws a TypeError naming the bad field. */
export function parseRuntimeConfig(input: unknown): SpaRuntimeConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError('the SPA configuration must be an object')
  }
  const fields = input as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!KNOWN_KEYS.has(key)) throw new TypeError(`unknown SPA configuration key: ${key}`)
  }
  const csrfHeaderName = fields.csrfHeaderName ?? DEFAULT_CSRF_HEADER_NAME
  if (typeof csrfHeaderName !== 'string' || !/^x-[a-z0-9-]+$/.test(csrfHeaderName)) {
    throw new TypeError('csrfHeaderName must be a lower-case header name starting with x-')
  }
  return Object.freeze({
    tokenHandlerUrl: baseUrl(fields.tokenHandlerUrl, 'tokenHandlerUrl'),
    apiBaseUrl: baseUrl(fields.apiBaseUrl, 'apiBaseUrl'),
    ordersPath: routePath(fields.ordersPath, 'ordersPath'),
    csrfHeaderName,
  })
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'tokenHandlerUrl',
  'apiBaseUrl',
  'ordersPath',
  'csrfHeaderName',
])

/**
 * An https URL without credentials, query or fragment, returned without a trailing slash so
 * endpoint paths can be appended. https only: the token handler's cookies are `Secure`.
 */
function baseUrl(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a URL string`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`${name} must be an absolute URL`)
  }
  if (url.protocol !== 'https:') throw new TypeError(`${name} must be an https URL`)
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TypeError(`${name} must not carry credentials, a query or a fragment`)
  }
  return url.href.replace(/\/+$/, '')
}

function routePath(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) {
    throw new TypeError(`${name} must be a path such as /spa/api/orders`)
  }
  if (value.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new TypeError(`${name} must not contain . or .. segments`)
  }
  return value
}
