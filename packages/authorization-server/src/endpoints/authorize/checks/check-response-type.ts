import { InvalidRequest, UnsupportedResponseType } from '../../../errors.js'
import type { Parameters } from '../request.js'

/** checkResponseType: the code flow only (no implicit, no hybrid); query response mode only. */
export function checkResponseType(parameters: Parameters): void {
  if (parameters.get('response_type') !== 'code') {
    throw new UnsupportedResponseType(
      'only response_type=code is supported',
      'authorize.response_type',
    )
  }
  const mode = parameters.get('response_mode')
  if (mode !== undefined && mode !== 'query') {
    throw new InvalidRequest('only response_mode=query is supported', 'authorize.response_mode')
  }
  for (const unsupported of ['request', 'claims', 'registration']) {
    if (parameters.has(unsupported)) {
      throw new InvalidRequest(
        `the ${unsupported} parameter is not supported`,
        `authorize.${unsupported}`,
      )
    }
  }
}
