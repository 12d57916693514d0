// on-exit-leak-free (pino's own helper for flushing its destinations at exit) ships no types.
declare module 'on-exit-leak-free' {
  /** Calls `fn(obj, 'exit')` when the process exits, unless `obj` was collected first. */
  export function register<T extends object>(
    obj: T,
    fn: (obj: T, event: 'exit' | 'beforeExit') => void,
  ): void
  export function unregister(obj: object): void
}
