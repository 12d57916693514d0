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
 * GH-CORS-001 and GH-COOKIE-001 for the gateway's browser-facing settings: each route's CORS
 * list and the cookie routes' section (`gateway.tokenHandler`). Read from the document as written: these
 * sections are newer than some gateway versions, and the checks only need their strings.
 */
export function checkBrowserOrigins({ input, report }: AuditContext): void {
  const gateway = member(input, 'gateway')
  const lists: { at: (string | number)[]; origins: unknown }[] = [
    {
      at: ['gateway', 'tokenHandler', 'allowedOrigins'],
      origins: member(member(gateway, 'tokenHandler'), 'allowedOrigins'),
    },
  ]
  const routes = member(gateway, 'routes')
  if (Array.isArray(routes)) {
    routes.forEach((route: unknown, index) => {
      lists.push({
        at: ['gateway', 'routes', index, 'cors', 'allowedOrigins'],
        origins: member(member(route, 'cors'), 'allowedOrigins'),
      })
    })
  }
  for (const { at, origins } of lists) {
    if (!Array.isArray(origins)) continue
    origins.forEach((origin: unknown, index) => {
      if (typeof origin !== 'string' || !isWideOrigin(origin)) return
      report('GH-CORS-001', [...at, index], `browser calls are allowed from ${origin}`)
    })
  }
  const domain = member(member(member(gateway, 'tokenHandler'), 'cookies'), 'domain')
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
