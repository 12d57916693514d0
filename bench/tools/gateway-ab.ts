/**
 * Two Gatehouse gateways side by side: A as built, B with other settings or from another build.
 * Both run on the server core and are loaded at the same time on the `jwt` route
 * (harness/side-by-side.ts), so B ÷ A requests/s in a round is their CPU-cost ratio, and a slow
 * minute of the shared host slows both alike. Each process's CPU time (utime + stime, /proc) over
 * the measured rounds ÷ its requests gives its CPU per request. bench/README's in-place
 * measurements of the access-log line were made this way.
 *
 *   node bench/dist/tools/gateway-ab.js [--rounds 5] [--seconds 4]
 *     [--b-log-level warn] [--b-log /dev/null] [--b-log-buffer 0] [--b-script <other build>]
 *     [--b-node-args=--max-semi-space-size=32]
 *
 * The same options with `--a-` set A. Two gateways as built should measure about 1.0×; on the
 * project's machine the per-round ratios of one run spread over a few hundredths.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startBaselineServer } from '../baselines/start-baseline.js'
import { createBenchPki } from '../harness/bench-pki.js'
import type { ChildServer } from '../harness/child-server.js'
import { planCores } from '../harness/cpu.js'
import type { HttpTarget } from '../harness/http-comparison.js'
import { loadSideBySide } from '../harness/side-by-side.js'
import { pairedRatios, spreadOf } from '../harness/statistics.js'
import type { SuiteContext } from '../harness/types.js'
import {
  type GatewayServerOptions,
  JWT_ROUTE_PATH,
  startGatewayServer,
} from '../suites/gateway-components.js'
import { startLocalIssuer } from '../suites/gateway-issuer.js'

const side = (prefix: 'a' | 'b') =>
  ({
    [`${prefix}-log-level`]: { type: 'string' },
    [`${prefix}-log`]: { type: 'string' },
    [`${prefix}-log-buffer`]: { type: 'string' },
    [`${prefix}-script`]: { type: 'string' },
    [`${prefix}-node-args`]: { type: 'string' },
  }) as const
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '4' },
    help: { type: 'boolean', default: false },
    ...side('a'),
    ...side('b'),
  },
})
const print = (line: string) => process.stdout.write(`${line}\n`)
if (values.help) {
  print(
    'usage: gateway-ab.js [--rounds N] [--seconds S] [--{a,b}-log-level L] [--{a,b}-log FILE] [--{a,b}-log-buffer BYTES] [--{a,b}-script PATH] [--{a,b}-node-args "OPTIONS"]',
  )
  process.exit(0)
}
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seconds) || seconds < 1) {
  console.error('--rounds and --seconds must be whole numbers ≥ 1')
  process.exit(2)
}

const cpu = planCores()
const context = (measured: number): SuiteContext => ({
  quick: false,
  rounds: measured,
  warmupRounds: 0,
  cpu,
  loadGenerator: 'wrk',
  log: (line) => console.error(line),
})
console.error(`cpu: ${cpu.note}`)

const pki = await createBenchPki()
const issuer = await startLocalIssuer(pki)
const servers: ChildServer[] = []
try {
  const upstream = await startBaselineServer('hello-upstream', cpu.serverCores)
  servers.push(upstream)
  // The jwt route only: the phantom routes' authorization server is never called.
  const routes = {
    upstream: upstream.url,
    localIssuer: issuer,
    authorizationServer: {
      issuer: 'https://127.0.0.1:1',
      introspectionEndpoint: 'https://127.0.0.1:1/introspect',
    },
    introspectionClientId: 'unused',
  }
  const start = async (prefix: 'a' | 'b') => {
    const option = (name: string) => (values as Record<string, unknown>)[`${prefix}-${name}`]
    const level = option('log-level')
    const buffer = option('log-buffer')
    const script = option('script')
    const logFile = option('log')
    const nodeArgs = option('node-args')
    const options: GatewayServerOptions = {
      workers: 1,
      introspectionSecret: 'unused',
      serverArgs: [
        ...(typeof level === 'string' ? ['--log-level', level] : []),
        ...(typeof buffer === 'string' ? ['--log-buffer', buffer] : []),
      ],
      ...(typeof script === 'string' ? { script } : {}),
      ...(typeof nodeArgs === 'string' ? { nodeArgs: nodeArgs.split(' ').filter(Boolean) } : {}),
      logFile: typeof logFile === 'string' ? logFile : join(pki.dir, `${prefix}.log`),
    }
    const gateway = await startGatewayServer(context(rounds), pki, routes, options)
    servers.push(gateway)
    return gateway
  }
  const a = await start('a')
  const b = await start('b')
  const headers = { authorization: `Bearer ${await issuer.sign('bench-user')}` }
  const pair: [HttpTarget, HttpTarget] = [
    { name: 'A', url: new URL(JWT_ROUTE_PATH, a.url), headers },
    { name: 'B', url: new URL(JWT_ROUTE_PATH, b.url), headers },
  ]
  const settings = { durationSeconds: seconds, connections: 64 }
  await loadSideBySide(context(1), pair, settings) // warm-up: JIT, caches, connection pools
  const before = [await cpuMicroseconds(a.pid), await cpuMicroseconds(b.pid)]
  const measured = await loadSideBySide(context(rounds), pair, settings)
  const after = [await cpuMicroseconds(a.pid), await cpuMicroseconds(b.pid)]
  const ofA = (measured.get('A') ?? []).map((round) => round.requestsPerSecond)
  const ofB = (measured.get('B') ?? []).map((round) => round.requestsPerSecond)
  const ratio = spreadOf(pairedRatios(ofB, ofA))
  const perRequest = (index: number, rates: number[]) =>
    ((after[index] as number) - (before[index] as number)) /
    rates.reduce((sum, rate) => sum + rate * seconds, 0)
  const fixed = (value: number) => value.toFixed(3)
  print(`A req/s per round: ${ofA.map(Math.round).join(' ')}`)
  print(`B req/s per round: ${ofB.map(Math.round).join(' ')}`)
  print(
    `B ÷ A req/s: median ${fixed(ratio.median)} [${fixed(ratio.min)}–${fixed(ratio.max)}], rounds ${ratio.samples.map(fixed).join(' ')}`,
  )
  print(
    `CPU per request: A ${perRequest(0, ofA).toFixed(1)} µs, B ${perRequest(1, ofB).toFixed(1)} µs`,
  )
} finally {
  for (const server of servers.reverse()) await server.close()
  await issuer.close()
  await pki.remove()
}

/** utime + stime of a process in microseconds (Linux /proc, in clock ticks of 10 ms: USER_HZ 100). */
async function cpuMicroseconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}
