import { type RedisOptions as IoRedisOptions, Redis } from 'ioredis'
import { z } from 'zod'
import type { RevocationBus, RevocationEvent, RevocationListener } from './revocation-bus.js'

/** ioredis connection options (`replyMapping` is left out: its typing clashes with exactOptionalPropertyTypes). */
export type RedisConnectionOptions = Omit<IoRedisOptions, 'replyMapping'>

export interface RedisRevocationBusOptions {
  /** `redis://[:password@]host:port/db`; keep the password in the environment. */
  readonly url?: string
  readonly redis?: RedisConnectionOptions
  /**
   * Prefix of the channel (`<prefix>revocations`). Default `gatehouse:`: the gateway's Redis state
   * subscribes to the same channel.
   */
  readonly keyPrefix?: string
  /**
   * How long `publish` waits for a connected Redis before it reports the failure and returns.
   * While the connection is known to be down it does not wait at all. Default 1000 ms.
   */
  readonly publishTimeoutMs?: number
  /** A publish that did not reach Redis in time, or a malformed message on the channel. */
  readonly onError?: (error: Error) => void
  readonly onListenerError?: (error: unknown) => void
}

export interface RedisRevocationBus extends RevocationBus {
  close(): Promise<void>
}

const Identifier = z.string().min(1).max(512)
const RevocationMessage = z.object({
  jti: Identifier,
  tokenId: Identifier,
  tokenHash: Identifier,
  tokenType: z.enum(['access_token', 'refresh_token']),
  clientId: z.string().max(512),
  subject: z.string().max(512),
  expiresAt: z.number(),
  revokedAt: z.number(),
  reason: z.string().max(128),
})

/**
 * The revocation bus of a fleet of authorization servers: every revocation is published on a
 * Redis channel that every gateway instance (and every authorization server's own listeners)
 * subscribes to, so a token revoked at any instance stops working at every gateway at once.
 * The message is the `RevocationEvent` as JSON: identifiers and hashes, never a token.
 *
 * Redis is not the system of record — the store is: a revoked token already introspects as
 * inactive. So `publish` never fails the revocation: when Redis is away it waits up to
 * `publishTimeoutMs`, reports through `onError` and returns, while the message stays queued and
 * goes out when the connection is back (gateways also drop their local copies on reconnecting).
 */
export async function createRedisRevocationBus(
  options: RedisRevocationBusOptions,
): Promise<RedisRevocationBus> {
  const channel = `${options.keyPrefix ?? 'gatehouse:'}revocations`
  const timeoutMs = options.publishTimeoutMs ?? 1_000
  const report = options.onError ?? (() => undefined)
  const connectionOptions: RedisConnectionOptions = {
    lazyConnect: true,
    // Keep a revocation queued through an outage rather than dropping it.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    ...options.redis,
  }
  const publisher =
    options.url === undefined
      ? new Redis(connectionOptions)
      : new Redis(options.url, connectionOptions)
  const subscriber = publisher.duplicate()
  // Connection errors are retried by ioredis; they surface as publish timeouts.
  publisher.on('error', () => undefined)
  subscriber.on('error', () => undefined)
  const listeners = new Set<RevocationListener>()

  function deliver(event: RevocationEvent): void {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        options.onListenerError?.(error)
      }
    }
  }

  subscriber.on('message', function onRevocationMessage(from: string, message: string) {
    if (from !== channel) return
    let parsed: ReturnType<typeof RevocationMessage.safeParse>
    try {
      parsed = RevocationMessage.safeParse(JSON.parse(message))
    } catch {
      report(new Error('malformed revocation message on the Redis channel'))
      return
    }
    if (!parsed.success) {
      report(new Error('malformed revocation message on the Redis channel'))
      return
    }
    deliver(parsed.data)
  })

  try {
    await Promise.all([publisher.connect(), subscriber.connect()])
    await subscriber.subscribe(channel)
  } catch (error) {
    publisher.disconnect()
    subscriber.disconnect()
    throw new Error(
      `cannot reach Redis for revocation events: ${error instanceof Error ? error.message : String(error)}`,
    )
  }

  return {
    async publish(event) {
      const sent = publisher.publish(channel, JSON.stringify(event))
      if (publisher.status !== 'ready') {
        // Known outage: queue it without waiting (a family revocation publishes many events).
        sent.catch(() => undefined)
        report(
          new Error('Redis is unreachable; the revocation event stays queued until it is back'),
        )
        deliver(event)
        return
      }
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs)
      })
      const outcome = await Promise.race([sent.then(() => 'sent' as const), late]).catch(
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      )
      clearTimeout(timer)
      if (outcome === 'sent') return
      // Not delivered (yet): in-process listeners still hear it now.
      sent.catch(() => undefined)
      report(
        outcome === 'late'
          ? new Error(`revocation not published to Redis within ${timeoutMs} ms; it stays queued`)
          : outcome,
      )
      deliver(event)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    async close() {
      listeners.clear()
      await Promise.all(
        [publisher, subscriber].map((connection) =>
          connection.status === 'ready'
            ? connection.quit().then(
                () => undefined,
                () => connection.disconnect(),
              )
            : connection.disconnect(),
        ),
      )
    },
  }
}
