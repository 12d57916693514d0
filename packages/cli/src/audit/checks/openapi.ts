import type { AuditContext } from '../findings.js'
import { coversTemplate, segmentsOf } from './path-overlap.js'

type Route = NonNullable<AuditContext['config']['gateway']>['routes'][number]

/** GH-OPENAPI-001: every documented operation is reachable through some route of its upstream. */
export function checkOpenApiCoverage({ config, openapi, report }: AuditContext): void {
  const gateway = config.gateway
  if (gateway === undefined) return
  for (const document of openapi) {
    const upstream = gateway.upstreams[document.upstream]
    if (upstream === undefined) continue
    const basePath = segmentsOf(new URL(upstream.url).pathname.replace(/\/$/, '') || '/')
    const patterns = gateway.routes
      .filter((route) => route.upstream === document.upstream)
      .map((route) => ({ route, pattern: [...basePath, ...upstreamPattern(route)] }))
    for (const operation of document.operations) {
      const template = segmentsOf(operation.upstreamPath)
      const routed = patterns.some(
        ({ route, pattern }) =>
          route.match.methods.some((method) => method === operation.method) &&
          coversTemplate(pattern, template),
      )
      if (routed) continue
      report(
        'GH-OPENAPI-001',
        ['paths', operation.path, operation.method.toLowerCase()],
        `${operation.method} ${operation.path} of upstream "${document.upstream}" has no route`,
        document.source,
      )
    }
  }
}

/** The route's path pattern as the upstream sees it, after `rewrite.stripPrefix` / `addPrefix`. */
function upstreamPattern(route: Route): string[] {
  let segments = segmentsOf(route.match.path)
  const { stripPrefix, addPrefix } = route.rewrite
  if (stripPrefix !== undefined) {
    const strip = segmentsOf(stripPrefix.replace(/\/$/, '') || '/')
    // The gateway strips whole leading segments; only literal ones can be stripped statically.
    if (strip.every((segment, i) => segments[i] === segment))
      segments = segments.slice(strip.length)
  }
  const add = addPrefix === undefined ? [] : segmentsOf(addPrefix.replace(/\/$/, '') || '/')
  return [...add, ...segments]
}
