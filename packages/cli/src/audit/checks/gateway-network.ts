import { isIP } from 'node:net'
import type { AuditContext } from '../findings.js'

/** GH-UPSTREAM-001/002, GH-NET-001/002: how the gateway talks to its neighbours. */
export function checkGatewayNetwork({ config, report }: AuditContext): void {
  const gateway = config.gateway
  if (gateway === undefined) return
  for (const [name, upstream] of Object.entries(gateway.upstreams)) {
    if (new URL(upstream.url).protocol === 'http:') {
      report(
        'GH-UPSTREAM-001',
        ['gateway', 'upstreams', name, 'url'],
        `upstream "${name}" is plain http`,
      )
    } else if (upstream.clientCertificate === undefined) {
      report(
        'GH-UPSTREAM-002',
        ['gateway', 'upstreams', name],
        `upstream "${name}" is called without a client certificate`,
      )
    }
  }
  gateway.trustedProxies.forEach((cidr, index) => {
    if (cidr.endsWith('/0')) {
      report(
        'GH-NET-001',
        ['gateway', 'trustedProxies', index],
        `trustedProxies contains ${cidr}: every peer may set X-Forwarded-For`,
      )
    }
  })
  if (gateway.admin !== undefined && !isLoopback(gateway.admin.host)) {
    report(
      'GH-NET-002',
      ['gateway', 'admin', 'host'],
      `the metrics port listens on ${gateway.admin.host}, not on loopback`,
    )
  }
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  if (bare === 'localhost') return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  return bare === '::1'
}
