/**
 * The contract between the harness and its suites. A suite measures a contender and its baseline
 * in the same process and run, interleaved, and hands back one result per compared figure.
 */

/** One figure's spread over the measured rounds (warm-up rounds excluded). */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly samples: readonly number[]
}

/**
 * What a result should reach: a ratio `atLeast` (throughput) or `atMost` (latency), or at most
 * `maxAdded` above its baseline in the result's own unit (e.g. "≤ 1 ms added p99").
 */
export interface Target {
  readonly atLeast?: number
  readonly atMost?: number
  readonly maxAdded?: number
  /** Where the target comes from, e.g. "issue #2". */
  readonly source: string
}

export interface SuiteResult {
  /** Says what is measured; for latency it says which direction is better. */
  readonly name: string
  readonly unit: string
  readonly value: Spread
  readonly baseline: string
  readonly baselineValue: Spread
  /** The median of the per-round ratios: robust to drift of a shared machine between rounds. */
  readonly pairedRatio: Spread
  readonly target?: Target
}

export interface SuiteContext {
  /** A short smoke run: fewer, shorter rounds. Numbers from it are not to be quoted. */
  readonly quick: boolean
  /** Measured rounds per contender (≥ 5 in a full run). */
  readonly rounds: number
  /** Rounds run first and thrown away, so JIT, caches and connection pools are warm. */
  readonly warmupRounds: number
  /** Cores for the load generator and for the servers under test, when pinning is possible. */
  readonly cpu: CpuPlan
  /** `wrk` (Debian) or `autocannon`, chosen once per run. */
  readonly loadGenerator: LoadGeneratorKind
  /** Progress lines, on stderr so the tables on stdout stay clean. */
  log(line: string): void
}

export interface CpuPlan {
  /** `taskset -c` lists, or undefined when the process must not be pinned. */
  readonly loadGeneratorCores: string | undefined
  readonly serverCores: string | undefined
  readonly note: string
}

export type LoadGeneratorKind = 'wrk' | 'autocannon'

export interface Suite {
  readonly name: string
  readonly description: string
  /** True when the suite drives HTTP load, so the run picks (and maybe installs) wrk first. */
  readonly usesHttpLoad?: boolean
  run(context: SuiteContext): Promise<SuiteResult[]>
}
