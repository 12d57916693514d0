import type { Spread } from './types.js'

export function spreadOf(samples: readonly number[]): Spread {
  if (samples.length === 0) throw new TypeError('a spread needs at least one sample')
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  return {
    median,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    samples: [...samples],
  }
}

/** Per-round ratios of two contenders measured in the same rounds. */
export function pairedRatios(values: readonly number[], baselines: readonly number[]): number[] {
  if (values.length !== baselines.length) throw new TypeError('paired samples differ in length')
  return values.map((value, index) => value / (baselines[index] as number))
}
