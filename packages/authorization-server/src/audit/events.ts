import {
  type AuditBus,
  type AuditEvent,
  type AuditEventInput,
  createAuditBus,
} from '@gatehouse/audit'
import type { AuthorizationServerStore } from '../store/store.js'

/**
 * The authorization server's security events, in the platform's one schema. Every event goes to
 * the bus (logs, metrics and tests subscribe) and to the store, where the admin API queries it.
 * Never a token, secret or password: `tokenId` is the `jti`.
 */
export type ServerAuditInput = Omit<AuditEventInput, 'component'>

export interface AuditTrail {
  readonly bus: AuditBus
  emit(input: ServerAuditInput): AuditEvent
  /** Resolves when every store write started so far has finished (tests, shutdown). */
  flush(): Promise<void>
}

export function createAuditTrail(
  store: AuthorizationServerStore,
  options: {
    readonly bus?: AuditBus
    readonly now?: () => number
    readonly onError?: (error: unknown) => void
  } = {},
): AuditTrail {
  const bus =
    options.bus ??
    createAuditBus({
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.onError === undefined ? {} : { onSinkError: options.onError }),
    })
  const pending = new Set<Promise<void>>()
  bus.subscribe({
    write(event) {
      const write = store
        .appendAuditEvent(event)
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => pending.delete(write))
      pending.add(write)
    },
  })
  return {
    bus,
    emit(input) {
      return bus.emit({ ...input, component: 'authorization-server' })
    },
    async flush() {
      await Promise.all([...pending])
    },
  }
}
