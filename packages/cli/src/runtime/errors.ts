/** One thing wrong with a configuration, named by its key path in the root configuration. */
export interface RuntimeProblem {
  readonly keyPath: string
  readonly message: string
}

/**
 * A configuration the components cannot run with: a missing environment variable, an unreadable
 * secret file, a malformed URL, a component section that is absent. Every problem names its key
 * path; the CLI prints them and exits with status 2, as it does for a schema error.
 */
export class RuntimeConfigError extends Error {
  readonly problems: readonly RuntimeProblem[]
  constructor(keyPath: string, message: string)
  constructor(problems: readonly RuntimeProblem[])
  constructor(first: string | readonly RuntimeProblem[], message?: string) {
    const problems =
      typeof first === 'string' ? [{ keyPath: first, message: message ?? '' }] : first
    super(
      problems.length === 1
        ? `${problems[0]?.keyPath}: ${problems[0]?.message}`
        : `invalid configuration:\n${problems.map((p) => `  - ${p.keyPath}: ${p.message}`).join('\n')}`,
    )
    this.name = 'RuntimeConfigError'
    this.problems = problems
  }
}

/**
 * Runs a command; a configuration problem (the root schema's or one found while wiring the
 * components) is printed with its key paths and gives exit status 2, anything else propagates.
 */
export async function exitTwoOnConfigError(
  run: () => Promise<number>,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  try {
    return await run()
  } catch (error) {
    if (
      error instanceof RuntimeConfigError ||
      (error instanceof Error && error.name === 'GatehouseConfigError')
    ) {
      stderr.write(`gatehouse: ${error.message}\n`)
      return 2
    }
    throw error
  }
}
