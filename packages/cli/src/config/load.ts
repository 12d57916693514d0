import { readFile } from 'node:fs/promises'
import { formatPath } from '@gatehouse/gateway'
import type { z } from 'zod'
import { type GatehouseConfig, GatehouseConfigSchema } from './schema.js'
import { type KeyPath, parseYamlSource, type YamlSource, YamlSyntaxError } from './yaml-source.js'

/** A validated, frozen Gatehouse configuration and the YAML it came from. */
export interface LoadedGatehouseConfig {
  readonly file: string
  readonly settings: GatehouseConfig
  /** The document as written (before defaults), e.g. for a component's own loader. */
  readonly input: unknown
  readonly source: YamlSource
}

export interface ConfigProblem {
  /** `gateway.routes[2].auth.method`, or `(root)`. */
  readonly keyPath: string
  readonly message: string
  readonly line?: number
  readonly column?: number
}

/** The configuration cannot be read, parsed or validated; every problem names its key path. */
export class GatehouseConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `invalid Gatehouse configuration ${file}:\n${problems.map((problem) => `  - ${describeProblem(file, problem)}`).join('\n')}`,
    )
    this.name = 'GatehouseConfigError'
  }
}

function describeProblem(file: string, problem: ConfigProblem): string {
  const at = problem.line === undefined ? '' : ` (${file}:${problem.line}:${problem.column})`
  return `${problem.keyPath}: ${problem.message}${at}`
}

/**
 * Reads, parses (YAML, duplicate keys refused) and validates the configuration (strict zod 4
 * schema), then freezes it. Secret references stay references: each component resolves its own.
 */
export async function loadGatehouseConfig(file: string): Promise<LoadedGatehouseConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new GatehouseConfigError(file, [{ keyPath: '(root)', message: `cannot read (${code})` }])
  }
  return parseGatehouseConfig(file, text)
}

/** As `loadGatehouseConfig`, from text already read. */
export function parseGatehouseConfig(file: string, text: string): LoadedGatehouseConfig {
  let source: YamlSource
  try {
    source = parseYamlSource(file, text)
  } catch (error) {
    if (!(error instanceof YamlSyntaxError)) throw error
    throw new GatehouseConfigError(
      file,
      error.problems.map((message) => ({ keyPath: '(root)', message })),
    )
  }
  const result = GatehouseConfigSchema.safeParse(source.value)
  if (!result.success) {
    throw new GatehouseConfigError(
      file,
      result.error.issues.flatMap((issue) => toProblems(issue, source)),
    )
  }
  return Object.freeze({
    file,
    settings: deepFreeze(result.data),
    input: source.value,
    source,
  })
}

function toProblems(issue: z.core.$ZodIssue, source: YamlSource): ConfigProblem[] {
  const problem = (path: KeyPath, message: string): ConfigProblem => {
    const at = source.locate(path)
    return { keyPath: formatPath(path), message, ...(at ?? {}) }
  }
  const path = issue.path.filter((key) => typeof key !== 'symbol') as (string | number)[]
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => problem([...path, key], 'unknown key'))
  }
  return [problem(path, issue.message)]
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}
