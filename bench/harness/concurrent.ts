/**
 * Measures operations per second of an async operation kept `concurrency` deep in flight for
 * `durationMs`. Every operation must succeed: a failing one aborts the measurement, so a
 * benchmark can never report the speed of rejecting tokens.
 */
export async function operationsPerSecond(
  operation: (sequence: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  let sequence = 0
  let completed = 0
  const started = performance.now()
  const deadline = started + durationMs
  async function lane(): Promise<void> {
    while (performance.now() < deadline) {
      await operation(sequence++)
      completed++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  const elapsedSeconds = (performance.now() - started) / 1000
  return completed / elapsedSeconds
}
