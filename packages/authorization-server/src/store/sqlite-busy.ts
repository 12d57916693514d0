import { storeUnavailable } from '../errors.js'
import type { AuthorizationServerStore } from './store.js'

/**
 * SQLITE_BUSY and SQLITE_LOCKED (with their extended codes): another connection to the database
 * file — another Gatehouse process, a `gatehouse` CLI command, a backup — held its lock for
 * longer than the store's busy timeout. The request did nothing wrong and the same request will
 * pass shortly, so it becomes `TemporarilyUnavailable` (503 with Retry-After), as a PostgreSQL
 * outage does (postgres.ts `asUnavailable`). Anything else stays what it is.
 */
export function asBusyUnavailable(error: unknown): unknown {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined
  if (typeof code !== 'string') return error
  const busy = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
  return busy ? storeUnavailable(error) : error
}

/** Every store method returns a promise: the wrapper below relies on it (checked here). */
type AsyncMethods<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? T[K] : never
}

/**
 * The store with every method's SQLITE_BUSY / SQLITE_LOCKED failure mapped by asBusyUnavailable.
 * Each call only gains a rejection handler on the promise the method returns anyway (this sits
 * on the token endpoint's path).
 */
export function withBusyAsUnavailable(
  store: AsyncMethods<AuthorizationServerStore>,
): AuthorizationServerStore {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store)) {
    const call = method as (...args: unknown[]) => Promise<unknown>
    wrapped[name] = (...args: unknown[]) => call.apply(store, args).catch(rethrowBusyAsUnavailable)
  }
  return wrapped as unknown as AuthorizationServerStore
}

function rethrowBusyAsUnavailable(error: unknown): never {
  throw asBusyUnavailable(error)
}
