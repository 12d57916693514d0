import pino from 'pino'

export interface LogDestinationOptions {
  /** A file descriptor (1 = stdout, the default) or a file path (appended to). */
  readonly dest?: number | string
  /**
   * Lines are gathered until this many bytes, then written together (default 3,072). 0 writes
   * every line at once, synchronously: one system call per request.
   */
  readonly bufferBytes?: number
  /** Gathered lines are written at least this often (default 250 ms). */
  readonly flushIntervalMs?: number
}

/**
 * Where the gateway's access log goes. Writing each request's line with its own system call
 * made the gateway 0.59× the minimal proxy instead of 0.66×, measured side by side on one core
 * (issue #4, bench/README.md): about a fifth of the proxy's whole CPU per request. So lines are
 * gathered and written a few KiB at a time, at least every 250 ms (like nginx's `access_log … buffer= flush=`), and flushed synchronously when the
 * process exits. Each write stays ≤ 4,096 bytes and holds whole lines, so lines from several
 * worker processes sharing one pipe never interleave (writes up to PIPE_BUF are atomic).
 * What a crash that skips the exit handlers (SIGKILL, power loss) can lose: up to one buffer.
 */
export function createLogDestination(options: LogDestinationOptions = {}) {
  const dest = options.dest ?? 1
  const bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES
  if (!Number.isInteger(bufferBytes) || bufferBytes < 0 || bufferBytes >= MAX_WRITE_BYTES) {
    throw new TypeError(`bufferBytes must be a whole number from 0 to ${MAX_WRITE_BYTES - 1}`)
  }
  if (bufferBytes === 0) return pino.destination({ dest, sync: true })
  const flushIntervalMs = options.flushIntervalMs ?? 250
  if (!Number.isInteger(flushIntervalMs) || flushIntervalMs < 1) {
    throw new TypeError('flushIntervalMs must be a whole number of milliseconds ≥ 1')
  }
  return pino.destination({
    dest,
    sync: false,
    minLength: bufferBytes,
    maxWrite: MAX_WRITE_BYTES,
    periodicFlush: flushIntervalMs,
  })
}

const DEFAULT_BUFFER_BYTES = 3_072
/** PIPE_BUF on Linux: a write of at most this many bytes to a pipe is atomic. */
const MAX_WRITE_BYTES = 4_096
