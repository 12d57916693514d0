import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { keyRotationPolicy } from './create-server.js'
import { rotateIfDue } from './maintenance.js'
import { startTestServer, type TestServer } from './test-support/test-server.js'

let as: TestServer
beforeEach(async () => {
  as = await startTestServer({
    keys: { encryptionKey: { env: 'X' }, rotation: { intervalSeconds: 86_400 } },
  })
})
afterEach(async () => {
  await as.close()
})

describe('rotation schedule', () => {
  it('rotates only once the active key is older than the interval, and audits it', async () => {
    const ctx = as.server.context
    const policy = keyRotationPolicy(ctx.config)
    const before = (await ctx.keys.signingKey()).kid
    as.clock.advance(3_600_000)
    expect(await rotateIfDue(ctx, policy, 86_400_000)).toBe(false)
    as.clock.advance(86_400_000)
    expect(await rotateIfDue(ctx, policy, 86_400_000)).toBe(true)
    expect((await ctx.keys.signingKey()).kid).not.toBe(before)
    expect(await rotateIfDue(ctx, policy, 86_400_000)).toBe(false)
    await as.server.close()
    expect(await as.store.queryAuditEvents({ type: 'key.rotated' })).toHaveLength(1)
  })
})
