import { register, unregister } from 'on-exit-leak-free'
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
 * gathered and written a few KiB at a time, at least every 250 ms (like nginx's `access_log …
 * buffer= flush=`), and flushed when the process exits. Each write stays ≤ 4,096 bytes and holds
 * whole lines, so the lines of several worker processes sharing one pipe never interleave
 * (writes up to PIPE_BUF are atomic).
 *
 * The writes are synchronous, as nginx's are. Written asynchronously (one write in flight at a
 * time, its completion waiting for the event loop), the log fell behind a saturated server: in a
 * side-by-side benchmark round the authorization server had written 20,593 lines of about 53,000
 * when the load stopped, and the rest, megabytes, sat in memory for seconds. A sink that cannot
 * keep up would have grown that without bound, and a crash would have lost all of it. Now memory
 * holds at most one buffer, a crash that skips the exit handlers (SIGKILL) loses at most that
 * buffer, and a sink slower than the traffic slows the server instead. Measured side by side on
 * the gateway, the synchronous writes cost the same CPU per request (0.99×, rounds 0.95–1.05×).
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
  const destination = pino.destination({
    dest,
    sync: true,
    minLength: bufferBytes,
    maxWrite: MAX_WRITE_BYTES,
    periodicFlush: flushIntervalMs,
  })
  // pino flushes its destinations at exit only when they are asynchronous; this one holds up to
  // a buffer of lines too.
  register(destination, flushAtExit)
  destination.once('close', () => unregister(destination))
  return destination
}

function flushAtExit(destination: ReturnType<typeof pino.destination>): void {
  try {
    destination.flushSync()
  } catch {
    // Destroyed, not open yet, or the file is gone: nothing can be done while the process exits.
  }
}

const DEFAULT_BUFFER_BYTES = 3_072
/** PIPE_BUF on Linux: a write of at most this many bytes to a pipe is atomic. */
const MAX_WRITE_BYTES = 4_096
