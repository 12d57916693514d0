import { spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pinned } from './cpu.js'
import { ensureDebianTool } from './debian-package.js'
import type { LoadGeneratorKind } from './types.js'

export interface HttpLoadOptions {
  readonly url: URL
  readonly durationSeconds: number
  readonly connections: number
  readonly headers?: Readonly<Record<string, string>>
  /** GET by default; POST sends `body` with every request (wrk: through its Lua script). */
  readonly method?: 'GET' | 'POST'
  readonly body?: string
  /**
   * A paced load in requests/s (for "latency at half load") instead of as fast as possible.
   * With wrk each connection waits PACED_DELAY_MS between its requests and the connection count
   * is set to offer this rate: each round trip adds to the wait, so the achieved rate is lower
   * (16% lower on a busy 2-core machine) and is what the result reports. Autocannon paces exactly but only has 1 ms latency
   * resolution, too coarse for the sub-millisecond differences the suites look for.
   */
  readonly requestsPerSecond?: number
  /** `taskset -c` list for the load generator; undefined runs it unpinned. */
  readonly cores: string | undefined
  readonly generator: LoadGeneratorKind
}

export interface HttpLoadResult {
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Requests slower than the load generator's timeout (10 s): a stalled server. */
  readonly timeouts: number
  readonly generator: LoadGeneratorKind
}

/**
 * Picks the load generator once per run: Debian's `wrk` (C, cheapest per request, so it leaves
 * the most CPU to the server under test), installed with apt-get when missing; autocannon (an
 * npm dependency of the bench) when wrk cannot be had.
 */
export function chooseLoadGenerator(
  requested: LoadGeneratorKind | undefined,
  log: (line: string) => void,
): LoadGeneratorKind {
  if (requested === 'autocannon') return 'autocannon'
  if (ensureDebianTool({ command: 'wrk', versionArgs: ['--version'], debianPackage: 'wrk' }, log)) {
    return 'wrk'
  }
  if (requested === 'wrk') throw new Error('wrk was requested but could not be installed')
  log('falling back to autocannon (slower per request than wrk: it takes more of its core)')
  return 'autocannon'
}

/** Runs one load measurement against `url` and parses requests/s and p50/p99 latency. */
export async function measureHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  return options.generator === 'wrk' ? runWrk(options) : runAutocannon(options)
}

const TIMEOUT_SECONDS = 10

/**
 * The mean pause of a paced connection between a response and its next request. wrk's `delay()`
 * hook works in whole milliseconds; 10 ms keeps the rounding error small.
 */
const PACED_DELAY_MS = 10
/**
 * Each pause is drawn uniformly from 0..2×PACED_DELAY_MS ms (mean PACED_DELAY_MS). A fixed pause
 * keeps the connections in step: they all open at once, send their first requests together and,
 * pausing alike, come back as one train, so a paced round measures how long a burst of every
 * connection takes to drain rather than the latency at that load. On the undici proxy at about
 * 3,100 req/s (2026-11-29, 35 connections): p99 4.06 and 3.33 ms with a fixed 10 ms against
 * 2.17 and 2.05 ms drawn, and p50 1.03 and 1.09 ms against 0.65 and 0.63 ms (bench/README.md).
 */
const PACED_DELAY_SCRIPT = [
  // wrk gives each thread its own Lua state; seed it so that two wrk processes started in the
  // same second (side by side) still draw different pauses.
  `math.randomseed(os.time() + math.floor(os.clock() * 1e6))`,
  `function delay()\n  return math.random(0, ${2 * PACED_DELAY_MS})\nend`,
].join('\n')
/** One script file per round: side-by-side rounds run two wrk processes at once. */
let wrkScripts = 0

/**
 * The wrk Lua script for a round, or undefined when plain GETs need none: the request method
 * and body (wrk sends the same body with every request) and the pacing `delay()` hook.
 */
export function wrkScript(options: HttpLoadOptions): string | undefined {
  const lines: string[] = []
  if (options.method !== undefined && options.method !== 'GET') {
    lines.push(`wrk.method = ${luaString(options.method)}`)
  }
  if (options.body !== undefined) lines.push(`wrk.body = ${luaString(options.body)}`)
  if (options.requestsPerSecond !== undefined) {
    lines.push(PACED_DELAY_SCRIPT)
  }
  return lines.length === 0 ? undefined : `${lines.join('\n')}\n`
}

/** A Lua long string cannot be broken out of by its content: pick a level the text lacks. */
function luaString(text: string): string {
  let level = ''
  while (text.includes(`]${level}]`)) level += '='
  return `[${level}[${text}]${level}]`
}

async function runWrk(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const paced = options.requestsPerSecond !== undefined
  const connections = paced
    ? Math.max(1, Math.round(((options.requestsPerSecond ?? 0) * PACED_DELAY_MS) / 1000))
    : options.connections
  const script = wrkScript(options)
  const scriptFile = join(tmpdir(), `gatehouse-bench-wrk-${process.pid}-${++wrkScripts}.lua`)
  if (script !== undefined) await writeFile(scriptFile, script)
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${options.durationSeconds}s`,
    '--latency',
    '--timeout',
    `${TIMEOUT_SECONDS}s`,
    ...(script === undefined ? [] : ['-s', scriptFile]),
    ...headerArgs('-H', options.headers),
    options.url.href,
  ]
  let output: string
  try {
    output = await runCommand(options.cores, 'wrk', args)
  } finally {
    if (script !== undefined) await rm(scriptFile, { force: true })
  }
  const requestsPerSecond = numberAfter(output, /Requests\/sec:\s+([\d.]+)/)
  const non2xx = output.match(/Non-2xx or 3xx responses:\s+(\d+)/)
  if (non2xx !== null) throw new Error(`wrk: ${non2xx[1]} non-2xx responses from ${options.url}`)
  // A timeout is a request slower than wrk's --timeout: the server stalled (on a shared machine,
  // usually because it was descheduled). Counted and reported; broken connections are fatal.
  const socketErrors = output.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  )
  if (socketErrors?.slice(1, 4).some((count) => count !== '0')) {
    throw new Error(`wrk: socket errors against ${options.url}: ${socketErrors[0]}`)
  }
  const timeouts = socketErrors === null ? 0 : Number(socketErrors[4])
  return {
    requestsPerSecond,
    p50Ms: wrkLatency(output, '50%'),
    p99Ms: wrkLatency(output, '99%'),
    timeouts,
    generator: 'wrk',
  }
}

/** wrk prints latency percentiles as e.g. `99%    1.20ms`, in us, ms or s. */
function wrkLatency(output: string, percentile: string): number {
  const match = output.match(new RegExp(`^\\s*${percentile}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm'))
  if (match === null) throw new Error(`wrk: no ${percentile} latency in output:\n${output}`)
  const value = Number(match[1])
  const unit = match[2]
  return unit === 'us' ? value / 1000 : unit === 's' ? value * 1000 : value
}

interface AutocannonReport {
  readonly requests: { readonly total: number }
  readonly duration: number
  readonly latency: { readonly p50: number; readonly p99: number }
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

async function runAutocannon(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const cli = createRequire(import.meta.url).resolve('autocannon')
  const args = [
    cli,
    '--json',
    '--connections',
    String(options.connections),
    '--duration',
    String(options.durationSeconds),
    '--timeout',
    String(TIMEOUT_SECONDS),
    ...(options.requestsPerSecond === undefined
      ? []
      : ['--overallRate', String(options.requestsPerSecond)]),
    ...(options.method === undefined ? [] : ['--method', options.method]),
    ...(options.body === undefined ? [] : ['--body', options.body]),
    ...headerArgs('--headers', options.headers),
    options.url.href,
  ]
  const output = await runCommand(options.cores, process.execPath, args)
  const report = JSON.parse(output) as AutocannonReport
  // autocannon counts timeouts among its errors; only the rest are fatal.
  if (report.non2xx > 0 || report.errors > report.timeouts) {
    throw new Error(
      `autocannon: ${report.non2xx} non-2xx responses, ${report.errors} errors from ${options.url}`,
    )
  }
  return {
    requestsPerSecond: report.requests.total / report.duration,
    p50Ms: report.latency.p50,
    p99Ms: report.latency.p99,
    timeouts: report.timeouts,
    generator: 'autocannon',
  }
}

function headerArgs(flag: string, headers: Readonly<Record<string, string>> = {}): string[] {
  return Object.entries(headers).flatMap(([name, value]) => [flag, `${name}: ${value}`])
}

function numberAfter(output: string, pattern: RegExp): number {
  const match = output.match(pattern)
  if (match === null) throw new Error(`load generator output not understood:\n${output}`)
  return Number(match[1])
}

async function runCommand(
  cores: string | undefined,
  command: string,
  args: readonly string[],
): Promise<string> {
  const line = pinned(cores, command, args)
  const child = spawn(line.command, line.args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  if (code !== 0) {
    throw new Error(`${command} exited with ${String(code)}: ${Buffer.concat(stderr).toString()}`)
  }
  return Buffer.concat(stdout).toString()
}
