/**
 * Runs contenders in alternating rounds (A B, then B A, …) so that a shared, noisy machine slows
 * each of them alike: drift between rounds lands on every contender instead of on one.
 */
export interface Contender<Measurement> {
  readonly name: string
  /** Measures one round and returns its figure(s). */
  round(): Promise<Measurement>
}

export interface InterleaveOptions {
  readonly rounds: number
  readonly warmupRounds: number
  readonly log?: (line: string) => void
}

/** Returns, for each contender in the order given, its measured rounds (warm-up excluded). */
export async function runInterleaved<Measurement>(
  contenders: readonly Contender<Measurement>[],
  options: InterleaveOptions,
): Promise<Measurement[][]> {
  const measured: Measurement[][] = contenders.map(() => [])
  const total = options.warmupRounds + options.rounds
  for (let round = 0; round < total; round++) {
    const warmup = round < options.warmupRounds
    // ABBA order: every contender goes first as often as it goes last.
    const order = contenders.map((_, index) => index)
    if (round % 2 === 1) order.reverse()
    for (const index of order) {
      const contender = contenders[index] as Contender<Measurement>
      const measurement = await contender.round()
      if (!warmup) (measured[index] as Measurement[]).push(measurement)
    }
    options.log?.(
      `  ${warmup ? 'warm-up' : 'round'} ${warmup ? round + 1 : round - options.warmupRounds + 1}/${
        warmup ? options.warmupRounds : options.rounds
      } done`,
    )
  }
  return measured
}
