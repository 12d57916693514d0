import { type AuditEvent, type AuditEventInput, createAuditEvent } from './events.js'

/** Where events go: the authorization server's store, a log, a metrics counter, a test. */
export interface AuditSink {
  write(event: AuditEvent): void | Promise<void>
}

export interface AuditBus {
  /** Records an event with every sink. Never throws: a failing sink is reported to `onSinkError`. */
  emit(input: AuditEventInput): AuditEvent
  subscribe(sink: AuditSink): () => void
  /** Resolves with the next event that matches (for tests and for joining flows). */
  next(predicate: (event: AuditEvent) => boolean, timeoutMs?: number): Promise<AuditEvent>
}

export function createAuditBus(
  options: { onSinkError?: (error: unknown, event: AuditEvent) => void; now?: () => number } = {},
): AuditBus {
  const sinks = new Set<AuditSink>()
  const onSinkError = options.onSinkError ?? (() => {})
  function deliver(sink: AuditSink, event: AuditEvent): void {
    try {
      const result = sink.write(event)
      if (result instanceof Promise) result.catch((error: unknown) => onSinkError(error, event))
    } catch (error) {
      onSinkError(error, event)
    }
  }
  return {
    emit(input) {
      const event = createAuditEvent(input, options.now)
      for (const sink of sinks) deliver(sink, event)
      return event
    },
    subscribe(sink) {
      sinks.add(sink)
      return () => {
        sinks.delete(sink)
      }
    },
    next(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const sink: AuditSink = {
          write(event) {
            if (!predicate(event)) return
            sinks.delete(sink)
            clearTimeout(timer)
            resolve(event)
          },
        }
        const timer = setTimeout(() => {
          sinks.delete(sink)
          reject(new Error(`no matching audit event within ${timeoutMs} ms`))
        }, timeoutMs)
        sinks.add(sink)
      })
    },
  }
}
