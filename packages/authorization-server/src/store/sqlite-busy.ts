import { TemporarilyUnavailable } from '../errors.js'
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
  if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) return error
  return new TemporarilyUnavailable(
    'the authorization server cannot reach its store; try again shortly',
    'store.unavailable',
    { cause: error },
  )
}

/** Every store method returns a promise: the wrapper below relies on it (checked here). */
type AsyncMethods<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? T[K] : never
}

/** The store with every method's SQLITE_BUSY / SQLITE_LOCKED failure mapped by asBusyUnavailable. */
export function withBusyAsUnavailable(
  store: AsyncMethods<AuthorizationServerStore>,
): AuthorizationServerStore {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store)) {
    wrapped[name] = async function mapped(...args: unknown[]) {
      try {
        return await (method as (...args: unknown[]) => Promise<unknown>).apply(store, args)
      } catch (error) {
        throw asBusyUnavailable(error)
      }
    }
  }
  return wrapped as unknown as AuthorizationServerStore
}
