import type { ServerContext } from './context.js'
import {
  type KeyRotationPolicy,
  KeyRotationTooEarly,
  rotateSigningKeys,
} from './keys/signing-keys.js'

/**
 * Background upkeep on unref'd timers: sweeping expired rows, and the key-rotation schedule
 * (the active key is replaced once it is older than `keys.rotation.intervalSeconds`).
 */
export function startMaintenance(
  ctx: ServerContext,
  policy: KeyRotationPolicy,
  onError: (error: unknown) => void,
): { stop(): void } {
  const sweep = setInterval(() => {
    ctx.store.sweepExpired(ctx.now()).catch(onError)
  }, ctx.config.sweepIntervalSeconds * 1000)
  sweep.unref()

  let rotation: NodeJS.Timeout | null = null
  const { rotation: schedule } = ctx.config.keys
  if (schedule.enabled) {
    const intervalMs = schedule.intervalSeconds * 1000
    rotation = setInterval(
      () => {
        rotateIfDue(ctx, policy, intervalMs).catch(onError)
      },
      Math.min(intervalMs / 10, 3_600_000),
    )
    rotation.unref()
  }
  return {
    stop() {
      clearInterval(sweep)
      if (rotation !== null) clearInterval(rotation)
    },
  }
}

/** Rotates when the active key is older than the interval; returns whether it rotated. */
export async function rotateIfDue(
  ctx: ServerContext,
  policy: KeyRotationPolicy,
  intervalMs: number,
): Promise<boolean> {
  const now = ctx.now()
  const keys = await ctx.store.listSigningKeys()
  const active = keys.find((key) => key.state === 'active')
  if (active !== undefined && (active.activatedAt ?? active.createdAt) + intervalMs > now)
    return false
  try {
    const result = await rotateSigningKeys(ctx.store, ctx.encryption, policy, { now })
    ctx.keys.invalidate()
    ctx.audit.emit({
      type: 'key.rotated',
      outcome: 'success',
      details: {
        activated: result.activated,
        retired: result.retired,
        published: result.published,
      },
    })
    return true
  } catch (error) {
    if (error instanceof KeyRotationTooEarly) return false
    throw error
  }
}
