import { type HttpLoadSettings, type HttpTarget, loadTargetOnce } from './http-comparison.js'
import type { HttpLoadResult } from './load-generator.js'
import type { SuiteContext } from './types.js'

/**
 * Loads two servers at the same time, each with its own load generator, while both servers share
 * the server core(s). The scheduler gives each busy server an equal share of the CPU, so the
 * ratio of their requests/s is the ratio of their CPU cost per request, and whatever else the
 * shared machine runs during a round slows both alike. Sequential rounds (runInterleaved) answer
 * "how fast is each alone"; this answers "how much more does one request cost in A than in B"
 * with a far smaller spread on a noisy host: two copies of the same proxy measured 0.98× and 1.02×.
 *
 * Returns each target's rounds under its name, as loadTargetsInterleaved does, so compareHttp
 * reports the figures; warm-up rounds are thrown away.
 */
export async function loadSideBySide(
  context: SuiteContext,
  pair: readonly [HttpTarget, HttpTarget],
  settings: Omit<HttpLoadSettings, 'requestsPerSecond'>,
): Promise<Map<string, HttpLoadResult[]>> {
  const [first, second] = pair
  if (first.name === second.name) throw new TypeError('side-by-side targets need distinct names')
  context.log(
    ` ${first.name} and ${second.name} side by side: ${settings.durationSeconds} s rounds, ${settings.connections} connections each`,
  )
  const firstRounds: HttpLoadResult[] = []
  const secondRounds: HttpLoadResult[] = []
  const total = context.warmupRounds + context.rounds
  for (let round = 0; round < total; round++) {
    await Promise.all(pair.map((target) => target.beforeRound?.()))
    const [firstResult, secondResult] = await Promise.all([
      loadTargetOnce(context, first, settings),
      loadTargetOnce(context, second, settings),
    ])
    await Promise.all(pair.map((target) => target.afterRound?.()))
    if (round < context.warmupRounds) continue
    firstRounds.push(firstResult)
    secondRounds.push(secondResult)
    context.log(`  side by side ${round - context.warmupRounds + 1}/${context.rounds} done`)
  }
  return new Map([
    [first.name, firstRounds],
    [second.name, secondRounds],
  ])
}
