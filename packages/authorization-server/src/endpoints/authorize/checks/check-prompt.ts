import { InvalidRequest } from '../../../errors.js'
import type { AuthorizationRequest, Parameters } from '../request.js'

export function checkMaxAge(parameters: Parameters): number | null {
  const maxAge = parameters.get('max_age')
  if (maxAge === undefined) return null
  if (!/^\d{1,9}$/.test(maxAge))
    throw new InvalidRequest('max_age is malformed', 'authorize.max_age')
  return Number(maxAge)
}

export function checkPrompt(parameters: Parameters): AuthorizationRequest['prompt'] {
  const prompt = parameters.get('prompt')
  if (prompt === undefined) return null
  if (prompt === 'none' || prompt === 'login' || prompt === 'consent') return prompt
  throw new InvalidRequest('unsupported prompt value', 'authorize.prompt')
}
