import cluster, { type Worker } from 'node:cluster'
import { StateUnavailable } from '../errors.js'
import { createMemoryPhantomCache } from './memory.js'
import type { BucketDecision, GatewayState, Revocation } from './types.js'

/**
 * State for `--workers N` on one machine: the primary process owns the rate-limit buckets and the
 * split-token entries, and workers reach them over the cluster IPC channel (the way
 * rate-limiter-flexible's cluster mode does), so a limit of 100 stays 100 whatever N is.
 * Revocations published anywhere are broadcast by the primary to every worker, whose phantom
 * cache (per worker, bounded) evicts at once.
 */

type Request =
  | {
      readonly op: 'rl.take'
      readonly key: string
      readonly capacity: number
      readonly windowSeconds: number
    }
  | { readonly op: 'split.get'; readonly hash: string }
  | {
      readonly op: 'split.put'
      readonly hash: string
      readonly value: string
      readonly ttl: number
    }

type ToPrimary =
  | { readonly gatehouse: 'request'; readonly id: number; readonly request: Request }
  | { readonly gatehouse: 'revocation'; readonly revocation: Revocation }

type ToWorker =
  | {
      readonly gatehouse: 'reply'
      readonly id: number
      readonly result?: unknown
      readonly error?: true
    }
  | { readonly gatehouse: 'revocation'; readonly revocation: Revocation }

function isMessage(message: unknown): message is { gatehouse: string } {
  return typeof message === 'object' && message !== null && 'gatehouse' in message
}

/** In the primary: answers the workers' state requests from `state` and fans revocations out. */
export function serveClusterState(state: GatewayState): () => void {
  async function answer(request: Request): Promise<unknown> {
    switch (request.op) {
      case 'rl.take':
        return state.rateLimits.take(request.key, request.capacity, request.windowSeconds)
      case 'split.get':
        return state.splitTokens.get(request.hash)
      case 'split.put':
        return state.splitTokens.put(request.hash, request.value, request.ttl)
    }
  }
  function onMessage(worker: Worker, message: unknown): void {
    if (!isMessage(message)) return
    const typed = message as ToPrimary
    if (typed.gatehouse === 'revocation') {
      void state.revocations.publish(typed.revocation)
      return
    }
    if (typed.gatehouse !== 'request') return
    answer(typed.request).then(
      (result) => send(worker, { gatehouse: 'reply', id: typed.id, result }),
      () => send(worker, { gatehouse: 'reply', id: typed.id, error: true }),
    )
  }
  const unsubscribe = state.revocations.subscribe(function broadcast(revocation) {
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker !== undefined) send(worker, { gatehouse: 'revocation', revocation })
    }
  })
  cluster.on('message', onMessage)
  return () => {
    unsubscribe()
    cluster.off('message', onMessage)
  }
}

function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message)
}

/** In a worker: the state interface, backed by the primary over IPC (phantom cache kept local). */
export function createWorkerState(
  options: {
    readonly maxPhantomEntries?: number
    readonly timeoutMs?: number
    readonly now?: () => number
  } = {},
): GatewayState {
  const now = options.now ?? Date.now
  const timeoutMs = options.timeoutMs ?? 2_000
  let nextId = 0
  const pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: unknown): void; timer: NodeJS.Timeout }
  >()
  const listeners = new Set<(revocation: Revocation) => void>()

  function onMessage(message: unknown): void {
    if (!isMessage(message)) return
    const typed = message as ToWorker
    if (typed.gatehouse === 'revocation') {
      for (const listener of listeners) listener(typed.revocation)
      return
    }
    if (typed.gatehouse !== 'reply') return
    const waiter = pending.get(typed.id)
    if (waiter === undefined) return
    pending.delete(typed.id)
    clearTimeout(waiter.timer)
    if (typed.error === true) waiter.reject(new StateUnavailable())
    else waiter.resolve(typed.result)
  }
  process.on('message', onMessage)

  function ask<T>(request: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (process.send === undefined)
        return reject(new StateUnavailable({ detail: 'not a cluster worker' }))
      const id = ++nextId
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new StateUnavailable({ detail: 'primary did not answer' }))
      }, timeoutMs)
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      process.send({ gatehouse: 'request', id, request } satisfies ToPrimary)
    })
  }

  return {
    rateLimits: {
      take: (key, capacity, windowSeconds) =>
        ask<BucketDecision>({ op: 'rl.take', key, capacity, windowSeconds }),
    },
    phantomCache: createMemoryPhantomCache(options.maxPhantomEntries ?? 100_000, now),
    revocations: {
      async publish(revocation) {
        process.send?.({ gatehouse: 'revocation', revocation } satisfies ToPrimary)
      },
      subscribe(listener) {
        listeners.add(listener)
        return () => {
          listeners.delete(listener)
        }
      },
    },
    splitTokens: {
      get: (hash) => ask<string | undefined>({ op: 'split.get', hash }),
      put: (hash, value, ttl) => ask<void>({ op: 'split.put', hash, value, ttl }),
    },
    async close() {
      process.off('message', onMessage)
      for (const waiter of pending.values()) clearTimeout(waiter.timer)
      pending.clear()
    },
  }
}
