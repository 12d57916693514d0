import { Writable } from 'node:stream'

/**
 * One terminal for every component of the dev stack: each log line is prefixed with the
 * component's name, padded so the JSON lines stay aligned. Components log with pino; this is the
 * destination stream they are given.
 */
export interface PrefixedOutput {
  stream(component: string): Writable
}

export function createPrefixedOutput(
  out: NodeJS.WritableStream = process.stdout,
  width = 22,
): PrefixedOutput {
  return {
    stream(component) {
      const prefix = `[${component}]`.padEnd(width)
      let pending = ''
      return new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          pending += chunk.toString()
          let newline = pending.indexOf('\n')
          while (newline >= 0) {
            out.write(`${prefix} ${pending.slice(0, newline + 1)}`)
            pending = pending.slice(newline + 1)
            newline = pending.indexOf('\n')
          }
          done()
        },
        final(done) {
          if (pending !== '') out.write(`${prefix} ${pending}\n`)
          done()
        },
      })
    },
  }
}
