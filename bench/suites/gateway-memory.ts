import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import type { ChildServer } from '../harness/child-server.js'
import { spreadOf } from '../harness/statistics.js'
import type { SuiteResult } from '../harness/types.js'
import { JWT_ROUTE_PATH } from './gateway-components.js'
import type { LocalIssuer } from './gateway-issuer.js'

const MIB = 1024 * 1024
const BATCH = 1_000
const IN_FLIGHT = 64
/** Distinct tokens sent before the first reading; the gateway's cache must hold these plus `count`. */
export const WARM_UP_TOKENS = 2_000

/**
 * Gateway memory with `count` distinct tokens in its verified-token cache, on a gateway that
 * served nothing else: the RSS after a warm-up of WARM_UP_TOKENS distinct tokens, then `count`
 * more distinct valid JWTs sent once each through the `jwt` route (each one a cache miss that
 * leaves an entry), then the RSS again. Both readings follow a full garbage
 * collection (SIGUSR2 → gc(), the child runs with --expose-gc), so garbage does not count.
 */
export async function measureCacheMemory(
  gateway: ChildServer,
  issuer: LocalIssuer,
  caCert: string,
  count: number,
  log: (line: string) => void,
): Promise<SuiteResult[]> {
  const pool = new Pool(gateway.url.origin, { connections: IN_FLIGHT, connect: { ca: caCert } })
  let tokenBytes = 0
  const send = async (from: number, to: number) => {
    for (let first = from; first < to; first += BATCH) {
      const size = Math.min(BATCH, to - first)
      const tokens = await Promise.all(
        Array.from({ length: size }, (_, index) => issuer.sign(`cached-user-${first + index}`)),
      )
      tokenBytes = tokens[0]?.length ?? tokenBytes
      await sendAll(pool, tokens)
    }
  }
  let before: number
  let after: number
  try {
    // Warm-up: JIT, TLS sessions, pools and the verification path are paid before the first reading.
    await send(0, WARM_UP_TOKENS)
    before = await settledResidentBytes(gateway)
    const started = Date.now()
    await send(WARM_UP_TOKENS, WARM_UP_TOKENS + count)
    log(`  filled the verified-token cache with ${count} more tokens in ${Date.now() - started} ms`)
    after = await settledResidentBytes(gateway)
  } finally {
    await pool.close()
  }
  const single = (value: number) => spreadOf([value])
  const ratio = single(after / before)
  return [
    {
      name: `gateway memory: Gatehouse gateway RSS with ${count} distinct cached tokens (jwt route, verified-token cache)`,
      unit: 'MiB',
      value: single(after / MIB),
      baseline: `the same gateway after a warm-up of ${WARM_UP_TOKENS} tokens`,
      baselineValue: single(before / MIB),
      pairedRatio: ratio,
    },
    {
      name: `gateway memory: RSS added per cached token (${count} tokens)`,
      unit: 'bytes/token',
      value: single((after - before) / count),
      baseline: 'the length of one token (bytes)',
      baselineValue: single(tokenBytes),
      pairedRatio: single((after - before) / count / tokenBytes),
    },
  ]
}

async function sendAll(pool: Pool, tokens: readonly string[]): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++] as string
      const response = await pool.request({
        path: JWT_ROUTE_PATH,
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
      })
      await response.body.dump()
      if (response.statusCode !== 200) {
        throw new Error(`filling the cache: the gateway answered ${response.statusCode}`)
      }
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

async function settledResidentBytes(server: ChildServer): Promise<number> {
  process.kill(server.pid, 'SIGUSR2')
  await sleep(1_000)
  return server.residentBytes()
}
