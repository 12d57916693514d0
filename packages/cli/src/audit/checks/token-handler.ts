import type { AuditContext } from '../findings.js'

/**
 * GH-COOKIE-001 and GH-PAR-001. A `*` or `http:` origin in `allowedOrigins` (wide CORS) never gets
 * this far: the token handler's schema refuses both, so such a config fails validation.
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
