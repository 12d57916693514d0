import { InvalidRequest } from '../../../errors.js'
import type { Parameters } from '../request.js'

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

/** checkPkce (RFC 7636, RFC 9700 §2.1.1): S256 for every client; `plain` and absence refused. */
export function checkPkce(parameters: Parameters): string {
  const challenge = parameters.get('code_challenge')
  const method = parameters.get('code_challenge_method')
  if (challenge === undefined) {
    throw new InvalidRequest('code_challenge is required (PKCE)', 'pkce.missing')
  }
  if (method !== 'S256') {
    throw new InvalidRequest('code_challenge_method must be S256', 'pkce.method')
  }
  if (!CODE_CHALLENGE.test(challenge)) {
    throw new InvalidRequest('code_challenge is malformed', 'pkce.malformed')
  }
  return challenge
}
