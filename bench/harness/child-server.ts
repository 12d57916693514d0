import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { pinned } from './cpu.js'

export interface ChildServer {
  readonly name: string
  readonly url: URL
  readonly pid: number
  /** The server's first stdout line (`{"port":N, …}`): servers may report more, e.g. client secrets. */
  readonly ready: Readonly<Record<string, unknown>>
  /** The server's resident memory in bytes (Linux /proc), e.g. after filling its caches. */
  residentBytes(): Promise<number>
  close(): Promise<void>
}

export interface ChildServerOptions {
  readonly name: string
  /** A Node.js script that listens on 127.0.0.1:0 and prints `{"port":N}` as its first line. */
  readonly script: string
  readonly args?: readonly string[]
  /** `taskset -c` core list; undefined runs it unpinned. */
  readonly cores: string | undefined
  /** `https` when the server listens with TLS (default `http`). */
  readonly protocol?: 'http' | 'https'
  /** Options for node itself, e.g. `--expose-gc`. */
  readonly nodeArgs?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly startTimeoutMs?: number
}

/**
 * Starts a server in its own process (pinned with taskset when possible), so the benchmark
 * process and the load generator never share its event loop or its core.
 */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  // GATEHOUSE_BENCH_CPU_PROF_DIR: every Node server under test writes a V8 CPU profile there
  // when it exits, to find where a figure's time goes (NODE_OPTIONS may not carry --cpu-prof).
  const profileDir = process.env.GATEHOUSE_BENCH_CPU_PROF_DIR
  const profiling = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]
  const { command, args } = pinned(options.cores, process.execPath, [
    ...profiling,
    ...(options.nodeArgs ?? []),
    options.script,
    ...(options.args ?? []),
  ])
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.name}: could not start ${options.script}`)
  try {
    const ready = await readReady(child, options.name, options.startTimeoutMs ?? 10_000)
    return {
      name: options.name,
      url: new URL(`${options.protocol ?? 'http'}://127.0.0.1:${ready.port}/`),
      pid,
      ready,
      residentBytes: () => residentBytes(pid),
      close: () => stop(child),
    }
  } catch (error) {
    await stop(child)
    throw error
  }
}

async function readReady(
  child: ChildProcess,
  name: string,
  timeoutMs: number,
): Promise<{ port: number } & Record<string, unknown>> {
  const stdout = child.stdout
  if (stdout === null) throw new Error(`${name}: no stdout`)
  const lines = createInterface({ input: stdout })
  const timer = setTimeout(() => lines.close(), timeoutMs)
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${name}: exited with code ${String(code)} before listening`)
  })
  exited.catch(() => undefined)
  try {
    const first = Promise.race([
      (async () => {
        for await (const line of lines) {
          // Some servers print notices of their own first: only a JSON line with a port counts.
          const message = parseJsonLine(line)
          const port = message?.port
          if (typeof port === 'number') return { ...message, port }
        }
        throw new Error(`${name}: did not report its port within ${timeoutMs} ms`)
      })(),
      exited,
    ])
    return await first
  } finally {
    clearTimeout(timer)
    // Keep draining stdout so the child never blocks on a full pipe.
    stdout.resume()
  }
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** VmRSS of a process; `taskset` execs the server, so the pid is the server's own. */
async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = status.match(/^VmRSS:\s+(\d+) kB$/m)
  if (match === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) * 1024
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}
