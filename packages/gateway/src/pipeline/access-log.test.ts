import fc from 'fast-check'
import pino, { type LoggerOptions } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { type AccessLogLine, createAccessLog, jsonNumber, jsonString } from './access-log.js'

/** A pino logger writing into an array, with a fixed clock so two lines can be compared. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = []
  const destination = { writable: true, write: (line: string) => lines.push(line) }
  const logger = pino(
    { name: 'gatehouse-gateway', timestamp: () => ',"time":1', ...options },
    destination,
  )
  return { logger, lines }
}

const full: AccessLogLine = {
  requestId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  routeId: 'orders',
  method: 'GET',
  path: '/orders/1',
  status: 200,
  reason: 'forwarded',
  clientIp: '192.0.2.7',
  clientId: 'web-app',
  subject: 'alice',
  tokenHash: 'abcdef12',
  durationMs: 1.234,
  upstreamMs: 0.789,
}

const sparse: AccessLogLine = {
  ...full,
  routeId: undefined,
  path: undefined,
  status: 404,
  reason: 'route.not_found',
  clientId: undefined,
  subject: undefined,
  tokenHash: undefined,
  upstreamMs: undefined,
}

/** What pino itself writes for the line. */
function pinoLine(options: LoggerOptions, line: AccessLogLine): string {
  const { logger, lines } = capture(options)
  logger.info(line, 'request')
  return lines[0] ?? ''
}

describe('createAccessLog', () => {
  it.each([
    ['every field', full],
    ['absent fields', sparse],
  ])('writes the line pino writes (%s)', (_, line) => {
    const { logger, lines } = capture()
    const info = vi.spyOn(logger, 'info')
    createAccessLog(logger)(line)
    expect(info).not.toHaveBeenCalled() // serialized here, not by pino's generic walk
    expect(lines).toEqual([pinoLine({}, line)])
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 30,
      msg: 'request',
      status: line.status,
    })
  })

  it('writes what pino writes for any field values', () => {
    const text = fc.string({ unit: 'binary', maxLength: 120 })
    const optional = fc.option(text, { nil: undefined })
    const number = fc.oneof(fc.double(), fc.integer())
    fc.assert(
      fc.property(
        fc.record({
          requestId: text,
          routeId: optional,
          method: text,
          path: optional,
          status: fc.integer({ min: 100, max: 599 }),
          reason: text,
          clientIp: text,
          clientId: optional,
          subject: optional,
          tokenHash: optional,
          durationMs: number,
          upstreamMs: fc.option(number, { nil: undefined }),
        }),
        (line) => {
          const { logger, lines } = capture()
          createAccessLog(logger)(line)
          const ours = lines[0] ?? ''
          // The same JSON, field for field and in the same order. (For a string with a lone
          // surrogate pino writes it raw and we escape it, so only the parsed values compare.)
          expect(JSON.parse(ours)).toEqual(JSON.parse(pinoLine({}, line)))
          expect(Object.keys(JSON.parse(ours))).toEqual(Object.keys(JSON.parse(pinoLine({}, line))))
          expect(ours.endsWith('}\n')).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('keeps child-logger bindings and the level formatter', () => {
    const options: LoggerOptions = { formatters: { level: (label) => ({ level: label }) } }
    const { logger, lines } = capture(options)
    const child = logger.child({ component: 'gateway' })
    createAccessLog(child)(full)
    const expected = capture(options)
    expected.logger.child({ component: 'gateway' }).info(full, 'request')
    expect(lines).toEqual(expected.lines)
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'info', component: 'gateway' })
  })

  it('writes nothing when the logger is above info, and follows level changes', () => {
    const { logger, lines } = capture({ level: 'warn' })
    const write = createAccessLog(logger)
    write(full)
    expect(lines).toEqual([])
    logger.level = 'info'
    write(full)
    expect(lines).toHaveLength(1)
  })

  it.each<[string, LoggerOptions]>([
    ['a log formatter', { formatters: { log: (object) => ({ ...object, extra: true }) } }],
    ['a mixin', { mixin: () => ({ mixed: 1 }) }],
    ['redaction', { redact: ['clientIp'] }],
    ['a serializer for one of its fields', { serializers: { path: () => '[path]' } }],
    ['a nested key', { nestedKey: 'http' }],
    ['another message key', { messageKey: 'message' }],
  ])('leaves a logger with %s to pino', (_, options) => {
    const { logger, lines } = capture(options)
    const info = vi.spyOn(logger, 'info')
    createAccessLog(logger)(full)
    expect(info).toHaveBeenCalledOnce()
    expect(lines).toEqual([pinoLine(options, full)])
  })
})

describe('jsonString', () => {
  it.each([
    ['plain ASCII', '/orders/1'],
    ['empty', ''],
    ['a quote', 'a"b'],
    ['a backslash', 'a\\b'],
    ['a control character', 'a\u0000b\nc'],
    ['DEL', 'a\u007fb'],
    ['non-ASCII', 'zoë ✓'],
    ['a lone surrogate', 'a\ud800b'],
    ['a surrogate pair', '😀'],
  ])('is JSON.stringify for %s', (_, value) => {
    expect(jsonString(value)).toBe(JSON.stringify(value))
  })

  it('is JSON.stringify for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (value) => {
        expect(jsonString(value)).toBe(JSON.stringify(value))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('jsonNumber', () => {
  it.each([
    0,
    -0,
    1,
    1.5,
    1.05,
    1.005,
    0.001,
    0.01,
    0.1,
    1.995,
    12.34,
    2147483.647,
    2147483.648,
    1e21,
    -1.5,
    0.0005,
    1.2345,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ])('writes %s as pino does', (value) => {
    expect(jsonNumber(value)).toBe(Number.isFinite(value) ? String(value) : 'null')
  })

  it('writes any duration rounded to the microsecond, and any double, as String() does', () => {
    const microseconds = fc.integer({ min: -1_000_000, max: 2 ** 32 }).map((n) => n / 1000)
    const rounded = fc
      .double({ min: 0, max: 1e7, noNaN: true })
      .map((ms) => Math.round(ms * 1000) / 1000)
    fc.assert(
      fc.property(fc.oneof(microseconds, rounded, fc.double(), fc.integer()), (value) => {
        expect(jsonNumber(value)).toBe(Number.isFinite(value) ? String(value) : 'null')
      }),
      { numRuns: 5000 },
    )
  })
})
