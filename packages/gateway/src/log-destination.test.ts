import { spawnSync } from 'node:child_process'
import fs, { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogDestination } from './log-destination.js'

const dirs: string[] = []
function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-'))
  dirs.push(dir)
  return join(dir, 'access.log')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}
const ready = (destination: { once(event: 'ready', listener: () => void): unknown }) =>
  new Promise<void>((resolve) => destination.once('ready', () => resolve()))

describe('createLogDestination', () => {
  it('gathers lines and writes them together within the flush interval', async () => {
    const file = logFile()
    const destination = createLogDestination({ dest: file, flushIntervalMs: 50 })
    await ready(destination)
    const logger = pino(destination)
    for (let i = 0; i < 3; i++) logger.info({ i }, 'request')
    expect(read(file)).toBe('')
    await new Promise((resolve) => setTimeout(resolve, 200))
    const lines = read(file).trim().split('\n')
    expect(lines.map((line) => (JSON.parse(line) as { i: number }).i)).toEqual([0, 1, 2])
    destination.end()
  })

  it('writes each whole line at once with bufferBytes 0', async () => {
    const file = logFile()
    const destination = createLogDestination({ dest: file, bufferBytes: 0 })
    pino(destination).info('request')
    expect(JSON.parse(read(file))).toMatchObject({ msg: 'request' })
    destination.end()
  })

  it('never writes more than 4,096 bytes at once, and only whole lines', async () => {
    const file = logFile()
    const destination = createLogDestination({ dest: file, flushIntervalMs: 10_000 })
    await ready(destination)
    const writes: string[] = []
    const writeSync = fs.writeSync
    const spy = vi.spyOn(fs, 'writeSync').mockImplementation(((...args: unknown[]) => {
      writes.push(String(args[1]))
      return (writeSync as (...rest: unknown[]) => number)(...args)
    }) as typeof fs.writeSync)
    try {
      const logger = pino(destination)
      for (let i = 0; i < 200; i++) logger.info({ i, pad: 'x'.repeat(100) }, 'request')
    } finally {
      spy.mockRestore()
    }
    expect(writes.length).toBeGreaterThan(5)
    for (const chunk of writes) {
      expect(Buffer.byteLength(chunk)).toBeLessThanOrEqual(4_096)
      expect(chunk.endsWith('\n')).toBe(true)
    }
    expect(writes.join('').trim().split('\n').length).toBeLessThanOrEqual(200)
    destination.destroy()
  })

  it('keeps up with a busy event loop: at most one buffer is ever held back', async () => {
    const file = logFile()
    const destination = createLogDestination({ dest: file, flushIntervalMs: 10_000 })
    await ready(destination)
    const logger = pino(destination)
    const lineCount = () => read(file).split('\n').length - 1
    // A saturated server: lines arrive without the event loop ever turning. Each line is about
    // 150 bytes, so a 3,072-byte buffer holds back at most about 20 of them.
    for (let i = 1; i <= 5_000; i++) {
      logger.info({ i, pad: 'x'.repeat(100) }, 'request')
      if (i % 1_000 === 0) expect(lineCount()).toBeGreaterThanOrEqual(i - 25)
    }
    const last = read(file).trim().split('\n').at(-1) ?? '{}'
    expect(JSON.parse(last)).toMatchObject({ msg: 'request' })
    destination.destroy()
  })

  it('flushes what it gathered when the process exits', () => {
    const file = logFile()
    const script = `
      import pino from 'pino'
      import { createLogDestination } from ${JSON.stringify(new URL('../dist/log-destination.js', import.meta.url).href)}
      const destination = createLogDestination({ dest: ${JSON.stringify(file)}, flushIntervalMs: 60000 })
      destination.once('ready', () => { pino(destination).info('last words'); process.exit(0) })
    `
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: new URL('.', import.meta.url).pathname,
    })
    expect(child.status, child.stderr).toBe(0)
    expect(JSON.parse(read(file))).toMatchObject({ msg: 'last words' })
  })

  it.each([
    [{ bufferBytes: -1 }, /bufferBytes/],
    [{ bufferBytes: 4_096 }, /bufferBytes/],
    [{ bufferBytes: 1.5 }, /bufferBytes/],
    [{ flushIntervalMs: 0 }, /flushIntervalMs/],
  ])('refuses %o', (options, message) => {
    expect(() => createLogDestination({ dest: logFile(), ...options })).toThrow(message)
  })
})
