import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import type { ChildServer } from './child-server.js'
import { pinned } from './cpu.js'

export interface ExternalServerOptions {
  readonly name: string
  /** A program that stays in the foreground (e.g. `haproxy -db`, `nginx -g 'daemon off;'`). */
  readonly command: string
  readonly args: readonly string[]
  /** The port its configuration makes it listen on (see `freePort`). */
  readonly port: number
  readonly protocol: 'http' | 'https'
  readonly cores: string | undefined
  readonly startTimeoutMs?: number
}

/**
 * Starts a server that is not a Node script (HAProxy, nginx) in its own process, pinned with
 * taskset, and waits until its port accepts connections. If it exits first, the error carries
 * what it printed, so a configuration it refuses stops the run loudly.
 */
export async function startExternalServer(options: ExternalServerOptions): Promise<ChildServer> {
  const line = pinned(options.cores, options.command, options.args)
  const child = spawn(line.command, line.args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const output: Buffer[] = []
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk))
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`)
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(
      `${options.name}: ${options.command} exited with code ${String(code)} before listening:\n${Buffer.concat(output).toString()}`,
    )
  })
  exited.catch(() => undefined)
  try {
    await Promise.race([
      waitForPort(options.port, options.startTimeoutMs ?? 10_000, options.name),
      exited,
    ])
  } catch (error) {
    await stop(child)
    const printed = Buffer.concat(output).toString().trim()
    if (printed === '' || !(error instanceof Error) || error.message.includes(printed)) throw error
    throw new Error(`${error.message}; it printed:\n${printed}`, { cause: error })
  }
  return {
    name: options.name,
    url: new URL(`${options.protocol}://127.0.0.1:${options.port}/`),
    pid,
    ready: { port: options.port },
    residentBytes: async () => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      const match = status.match(/^VmRSS:\s+(\d+) kB$/m)
      if (match === null) throw new Error(`no VmRSS for process ${pid}`)
      return Number(match[1]) * 1024
    },
    close: () => stop(child),
  }
}

/** A port that was free a moment ago, for servers whose configuration names a fixed port. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function waitForPort(port: number, timeoutMs: number, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${name}: port ${port} did not open within ${timeoutMs} ms`)
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}
