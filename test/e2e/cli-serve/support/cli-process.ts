/**
 * The real `gatehouse` command (packages/cli/dist/main.js) as a child process: its output
 * collected, a wait for a line that says it is ready, and a clean stop by signal.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const cli = fileURLToPath(new URL('../../../../packages/cli/dist/main.js', import.meta.url))

export function requireBuiltCli(): void {
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run npm run build first (npm test does)`)
}

export interface CliProcess {
  readonly child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** As Ctrl-C in a terminal: the signal to the whole process group (started with `detached`). */
  stopGroup(signal?: NodeJS.Signals): Promise<number | null>
}

export function startCli(
  args: readonly string[],
  options: {
    readonly env?: Record<string, string>
    readonly cwd?: string
    /** Its own process group, for `stopGroup`. */
    readonly detached?: boolean
  } = {},
): CliProcess {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return {
    child,
    output: () => output,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const match = output.match(pattern)
        if (match !== null) return match
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`gatehouse ${args.join(' ')} exited (${child.exitCode}):\n${output}`)
        }
        if (Date.now() > deadline) {
          throw new Error(
            `no ${pattern} within ${timeoutMs} ms from gatehouse ${args.join(' ')}:\n${output}`,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
    async stopGroup(signal = 'SIGINT') {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
        process.kill(-child.pid, signal)
      return exited
    },
  }
}

/** Runs the command to its end: exit code and output. */
export async function runCli(
  args: readonly string[],
  options: { readonly env?: Record<string, string>; readonly cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
  const process = startCli(args, options)
  const code = await once(process.child, 'close').then(([exitCode]) => exitCode as number | null)
  return { code, output: process.output() }
}
