import type { AuditContext } from '../findings.js'

/**
 * GH-COOKIE-001 and GH-PAR-001 for the token handler. A `*` or `http:` origin in its
 * `allowedOrigins` (wide CORS) never gets this far: its schema refuses both.
 */
export function checkTokenHandler({ config, report }: AuditContext): void {
  const handler = config.tokenHandler
  if (handler === undefined) return
  if (handler.cookies.domain !== undefined) {
    report(
      'GH-COOKIE-001',
      ['tokenHandler', 'cookies', 'domain'],
      `session cookies are sent to every host under ${handler.cookies.domain}`,
    )
  }
  if (!handler.pushedAuthorizationRequests.enabled) {
    report(
      'GH-PAR-001',
      ['tokenHandler', 'pushedAuthorizationRequests', 'enabled'],
      'authorization requests go through the browser (PAR disabled)',
    )
  }
}

/**
 * GH-CORS-001 and GH-COOKIE-001 for the gateway's side of `cookie` routes
 * (`gateway.tokenHandler`). Read from the document as written: that section is newer than some
 * gateway versions, and the checks only need its strings.
 */
export function checkCookieRoutes({ input, report }: AuditContext): void {
  const section = member(member(input, 'gateway'), 'tokenHandler')
  const origins = member(section, 'allowedOrigins')
  if (Array.isArray(origins)) {
    origins.forEach((origin: unknown, index) => {
      if (typeof origin !== 'string' || !isWideOrigin(origin)) return
      report(
        'GH-CORS-001',
        ['gateway', 'tokenHandler', 'allowedOrigins', index],
        `cookie routes accept requests from ${origin}`,
      )
    })
  }
  const domain = member(member(section, 'cookies'), 'domain')
  if (typeof domain === 'string') {
    report(
      'GH-COOKIE-001',
      ['gateway', 'tokenHandler', 'cookies', 'domain'],
      `cookie routes read session cookies shared with every host under ${domain}`,
    )
  }
}

/** A wildcard, the opaque `null` origin, or a page served over plain http. */
function isWideOrigin(origin: string): boolean {
  return origin.includes('*') || origin.trim() === 'null' || /^http:/i.test(origin)
}

function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined
}
