import { runInterleaved } from './interleave.js'
import { type HttpLoadResult, measureHttpLoad } from './load-generator.js'
import { pairedRatios, spreadOf } from './statistics.js'
import type { SuiteContext, SuiteResult, Target } from './types.js'

export interface HttpTarget {
  readonly name: string
  readonly url: URL
  readonly headers?: Readonly<Record<string, string>>
  readonly method?: 'GET' | 'POST'
  /** The body of every request of a round; a function is read again before each round. */
  readonly body?: string | (() => string)
  /** Runs before each round (e.g. issues the token the round's body carries). */
  readonly beforeRound?: () => Promise<void>
  /**
   * Runs after each round and throws when the round did not measure what it claims (e.g. the
   * introspected token is no longer active: a 200 `{"active":false}` is not a success).
   */
  readonly afterRound?: () => Promise<void>
  /**
   * Called when a round fails: what the server itself recorded (e.g. the statuses and reasons in
   * its access log), added to the error, since wrk counts non-2xx answers without saying which.
   */
  readonly explainFailure?: () => Promise<string | undefined>
}

export interface HttpLoadSettings {
  readonly durationSeconds: number
  readonly connections: number
  /** Paced load in requests/s (autocannon); omit for closed-loop maximum throughput. */
  readonly requestsPerSecond?: number
}

/** Default load settings: full runs give each round 5 s, quick runs 1 s. */
export function defaultHttpLoad(context: SuiteContext): HttpLoadSettings {
  return { durationSeconds: context.quick ? 1 : 5, connections: 64 }
}

/**
 * Loads every target in interleaved rounds from the load generator's core, one target at a
 * time, and returns each target's rounds by name.
 */
export async function loadTargetsInterleaved(
  context: SuiteContext,
  targets: readonly HttpTarget[],
  settings: HttpLoadSettings,
): Promise<Map<string, HttpLoadResult[]>> {
  const contenders = targets.map((target) => ({
    name: target.name,
    round: async () => {
      await target.beforeRound?.()
      const result = await loadTargetOnce(context, target, settings)
      if (result.timeouts > 0) {
        context.log(`  ${target.name}: ${result.timeouts} requests timed out (the server stalled)`)
      }
      await target.afterRound?.()
      return result
    },
  }))
  context.log(
    ` ${targets.map((target) => target.name).join(' vs ')}: ${settings.durationSeconds} s rounds, ${settings.connections} connections, ${context.loadGenerator}`,
  )
  const measured = await runInterleaved(contenders, {
    rounds: context.rounds,
    warmupRounds: context.warmupRounds,
    log: context.log,
  })
  return new Map(targets.map((target, index) => [target.name, measured[index] ?? []]))
}

/** The target called `name`: a suite's way to pick targets for a second comparison. */
export function targetNamed(targets: readonly HttpTarget[], name: string): HttpTarget {
  const target = targets.find((candidate) => candidate.name === name)
  if (target === undefined) throw new Error(`no target ${name}`)
  return target
}

/**
 * One round of load on one target (its body read now). A failed round names its target: "wrk: 2
 * non-2xx responses" alone does not say which of eight servers answered them.
 */
export async function loadTargetOnce(
  context: SuiteContext,
  target: HttpTarget,
  settings: HttpLoadSettings,
): Promise<HttpLoadResult> {
  const body = typeof target.body === 'function' ? target.body() : target.body
  try {
    return await measureHttpLoad({
      url: target.url,
      durationSeconds: settings.durationSeconds,
      connections: settings.connections,
      ...(target.headers === undefined ? {} : { headers: target.headers }),
      ...(target.method === undefined ? {} : { method: target.method }),
      ...(body === undefined ? {} : { body }),
      ...(settings.requestsPerSecond === undefined
        ? {}
        : { requestsPerSecond: settings.requestsPerSecond }),
      cores: context.cpu.loadGeneratorCores,
      generator: context.loadGenerator,
    })
  } catch (error) {
    const seen = await target.explainFailure?.().catch(() => undefined)
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(`${target.name}: ${message}${seen === undefined ? '' : ` (${seen})`}`, {
      cause: error,
    })
  }
}

export interface HttpComparisonOptions {
  readonly suite: string
  readonly contender: string
  readonly baseline: string
  readonly measured: ReadonlyMap<string, readonly HttpLoadResult[]>
  readonly throughputTarget?: Target
  readonly addedP99Target?: Target
  /** Which figures to report (all three by default). */
  readonly figures?: readonly ('requests/s' | 'p50' | 'p99')[]
  /** Appended to the result names, e.g. "at half load". */
  readonly label?: string
}

/** Requests/s, p50 and p99 of `contender` against `baseline`, from the same interleaved rounds. */
export function compareHttp(options: HttpComparisonOptions): SuiteResult[] {
  const contender = options.measured.get(options.contender)
  const baseline = options.measured.get(options.baseline)
  if (contender === undefined || baseline === undefined) {
    throw new TypeError(`no rounds measured for ${options.contender} or ${options.baseline}`)
  }
  const figure = (
    label: string,
    unit: string,
    pick: (result: HttpLoadResult) => number,
    target?: Target,
  ): SuiteResult => {
    const values = contender.map(pick)
    const baselines = baseline.map(pick)
    return {
      name: `${options.suite} ${options.contender} vs ${options.baseline}${options.label === undefined ? '' : ` ${options.label}`}: ${label}`,
      unit,
      value: spreadOf(values),
      baseline: options.baseline,
      baselineValue: spreadOf(baselines),
      pairedRatio: spreadOf(pairedRatios(values, baselines)),
      ...(target === undefined ? {} : { target }),
    }
  }
  const wanted = new Set(options.figures ?? ['requests/s', 'p50', 'p99'])
  return [
    ...(wanted.has('requests/s')
      ? [
          figure(
            'requests/s',
            'req/s',
            (result) => result.requestsPerSecond,
            options.throughputTarget,
          ),
        ]
      : []),
    ...(wanted.has('p50')
      ? [figure('p50 latency (lower is better)', 'ms (lower is better)', (result) => result.p50Ms)]
      : []),
    ...(wanted.has('p99')
      ? [
          figure(
            'p99 latency (lower is better)',
            'ms (lower is better)',
            (result) => result.p99Ms,
            options.addedP99Target,
          ),
        ]
      : []),
  ]
}
