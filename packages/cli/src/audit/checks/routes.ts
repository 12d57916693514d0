import type { AuditContext } from '../findings.js'
import { overlappingPath } from './path-overlap.js'

export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const

/** GH-ROUTE-001/002/004, GH-LIMIT-001 and GH-ABUSE-001: each route on its own. */
export function checkRoutes({ config, report }: AuditContext): void {
  const gateway = config.gateway
  if (gateway === undefined) return
  gateway.routes.forEach((route, index) => {
    const at = ['gateway', 'routes', index] as const
    const writes = WRITE_METHODS.filter((method) => route.match.methods.includes(method))
    if (route.auth.method === 'public') {
      if (writes.length > 0) {
        report(
          'GH-ROUTE-002',
          [...at, 'match', 'methods'],
          `route "${route.id}" is public and accepts ${writes.join(', ')}`,
        )
      } else {
        report('GH-ROUTE-001', [...at, 'auth', 'method'], `route "${route.id}" is public`)
      }
    } else {
      for (const method of writes) {
        if (route.scopes[method] !== undefined) continue
        report(
          'GH-ROUTE-004',
          [...at, 'scopes'],
          `route "${route.id}" allows ${method} without a required scope`,
        )
      }
    }
    if (route.rateLimits.length === 0 && gateway.rateLimits.length === 0) {
      report('GH-LIMIT-001', [...at, 'rateLimits'], `no rate limit applies to route "${route.id}"`)
    }
  })
  const enumeration = gateway.abuse.enumeration
  if (enumeration === undefined || !enumeration.enabled) {
    report(
      'GH-ABUSE-001',
      ['gateway', 'abuse', 'enumeration'],
      'the enumeration detector is not enabled',
    )
  }
}

type Route = NonNullable<AuditContext['config']['gateway']>['routes'][number]

/** `phantom main https://orders.example`: what decides how a request is authenticated. */
function authOf(route: Route): string {
  const auth = route.auth
  return auth.method === 'public' ? 'public' : `${auth.method} ${auth.issuer} ${auth.audience}`
}

/** GH-ROUTE-003: two routes can take the same request but authenticate it differently. */
export function checkRouteOverlaps({ config, report }: AuditContext): void {
  const routes = config.gateway?.routes ?? []
  routes.forEach((first, i) => {
    routes.slice(i + 1).forEach((second, offset) => {
      const j = i + 1 + offset
      if (authOf(first) === authOf(second)) return
      const sameHost =
        first.match.host === undefined ||
        second.match.host === undefined ||
        first.match.host === second.match.host
      if (!sameHost) return
      const method = first.match.methods.find((m) => second.match.methods.includes(m))
      if (method === undefined) return
      const path = overlappingPath(first.match.path, second.match.path)
      if (path === undefined) return
      report(
        'GH-ROUTE-003',
        ['gateway', 'routes', j, 'match', 'path'],
        `routes "${first.id}" (${authOf(first)}) and "${second.id}" (${authOf(second)}) both match ${method} ${path}; "${first.id}" wins because it comes first`,
      )
    })
  })
}
