import type { ServerContext } from '../../../context.js'
import type { FormParameters } from '../../../http/form.js'
import type { ClientRecord } from '../../../store/store.js'

export interface GrantRequest {
  readonly client: ClientRecord
  readonly form: FormParameters
  /** RFC 8707 `resource` values (the one parameter that may repeat; grants refuse more than one). */
  readonly resources: readonly string[] | undefined
  readonly request: { readonly requestId: string; readonly ip: string }
}

/** A grant turns an authenticated, allowed request into the token response (RFC 6749 §5.1). */
export type GrantHandler = (
  ctx: ServerContext,
  grant: GrantRequest,
) => Promise<Record<string, unknown>>
