import type { AuditContext } from '../findings.js'

/** GH-ALG-001/002 across components: what the gateway and the token handler accept or use. */
export function checkAlgorithms({ config, report }: AuditContext): void {
  const server = config.authorizationServer
  for (const [name, issuer] of Object.entries(config.gateway?.issuers ?? {})) {
    const at = ['gateway', 'issuers', name, 'algorithms'] as const
    const isOurs = server !== undefined && sameIssuer(issuer.issuer, server.issuer)
    if (isOurs) {
      const extra = issuer.algorithms.filter((alg) => alg !== server.keys.algorithm)
      if (extra.length > 0) {
        report(
          'GH-ALG-001',
          at,
          `issuer "${name}" accepts ${extra.join(', ')} but the authorization server signs with ${server.keys.algorithm}`,
        )
      }
    } else if (issuer.algorithms.includes('RS256')) {
      report('GH-ALG-002', at, `issuer "${name}" accepts RS256`)
    }
  }
  const authentication = config.tokenHandler?.client.authentication
  if (authentication?.method === 'private_key_jwt' && authentication.algorithm === 'RS256') {
    report(
      'GH-ALG-002',
      ['tokenHandler', 'client', 'authentication', 'algorithm'],
      'the token handler signs its client assertions with RS256',
    )
  }
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/$/, '') === b.replace(/\/$/, '')
}
