import { operationsPerSecond } from './concurrent.js'
import { runInterleaved } from './interleave.js'
import { pairedRatios, spreadOf } from './statistics.js'
import type { Spread, SuiteContext } from './types.js'

export interface ThroughputSide {
  readonly name: string
  /** One operation; `sequence` counts up across rounds, for picking from a pool of inputs. */
  operation(sequence: number): Promise<unknown>
}

export interface ThroughputComparison {
  readonly value: Spread
  readonly baselineValue: Spread
  readonly pairedRatio: Spread
}

/**
 * Operations per second of `contender` and `baseline`, each kept `concurrency` deep in flight
 * for `durationMs` per round, rounds interleaved. Both run in this process, one at a time.
 */
export async function compareThroughput(
  context: SuiteContext,
  options: {
    readonly contender: ThroughputSide
    readonly baseline: ThroughputSide
    readonly concurrency: number
    readonly durationMs: number
  },
): Promise<ThroughputComparison> {
  const sides = [options.contender, options.baseline].map((side) => {
    let sequence = 0
    return {
      name: side.name,
      round: () =>
        operationsPerSecond(
          () => side.operation(sequence++),
          options.concurrency,
          options.durationMs,
        ),
    }
  })
  context.log(` ${options.contender.name} vs ${options.baseline.name}`)
  const [values = [], baselines = []] = await runInterleaved(sides, {
    rounds: context.rounds,
    warmupRounds: context.warmupRounds,
  })
  return {
    value: spreadOf(values),
    baselineValue: spreadOf(baselines),
    pairedRatio: spreadOf(pairedRatios(values, baselines)),
  }
}
