import type { AuditContext } from '../findings.js'
import { describe } from './authorization-server.js'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** GH-CLIENT-001/002, GH-SECRET-001 and per-client GH-TTL-001: the declared clients. */
export function checkClients({ config, report }: AuditContext): void {
  config.clients.forEach((client, index) => {
    const at = ['clients', index] as const
    // External: anything but a first-party confidential client. A public client (`none`) runs on
    // the user's device, so whatever it holds, its user and their software can read.
    const internal = client.firstParty && client.tokenEndpointAuthMethod !== 'none'
    if (client.tokenFormat === 'jwt' && !internal) {
      const why = client.firstParty ? 'a public client' : 'not firstParty'
      report(
        'GH-CLIENT-001',
        [...at, 'tokenFormat'],
        `client "${client.clientId}" (${why}) receives JWT access tokens`,
      )
    }
    if (client.grantTypes.includes(TOKEN_EXCHANGE) && !internal) {
      report(
        'GH-CLIENT-002',
        [...at, 'grantTypes', client.grantTypes.indexOf(TOKEN_EXCHANGE)],
        `client "${client.clientId}" may exchange tokens for other audiences`,
      )
    }
    if (typeof client.clientSecret === 'string') {
      // Never echo the value: the finding names the key only.
      report(
        'GH-SECRET-001',
        [...at, 'clientSecret'],
        `the secret of client "${client.clientId}" is written in the file`,
      )
    }
    if (client.accessTokenTtlSeconds !== undefined && client.accessTokenTtlSeconds > 3_600) {
      report(
        'GH-TTL-001',
        [...at, 'accessTokenTtlSeconds'],
        `access tokens of client "${client.clientId}" live ${describe(client.accessTokenTtlSeconds)}`,
      )
    }
  })
}
