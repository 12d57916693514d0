/**
 * Child-process entry: the Gatehouse gateway from a configuration file,
 * `node gateway.js <config.json> <workers> [--redis-key-prefix <prefix>] [--log-level <level>]
 * [--log-buffer <bytes>]`. One worker runs `createGateway` in this process, on memory state, or
 * with `--redis-key-prefix` on Redis state (`createRedisState`, the URL from
 * GATEHOUSE_BENCH_REDIS_URL, phantom entries shared through Redis sealed with the base64 key in
 * GATEHOUSE_BENCH_PHANTOM_ENTRY_KEY: what `gatehouse serve gateway` builds for `state: redis`);
 * more run `startGatewayCluster` (what `gatehouse serve gateway --workers N` runs). The access
 * log goes to GATEHOUSE_BENCH_GATEWAY_LOG (a file, through the destination `gatehouse serve`
 * uses; never the benchmark's pipe), at level `info` unless `--log-level` says otherwise.
 * Prints `{"port":N, "adminUrl":…}` when listening; SIGUSR2 runs a full garbage collection (with
 * --expose-gc) before a memory reading; exits on SIGTERM.
 */
import { parseArgs } from 'node:util'
import {
  createGateway,
  createGatewayMetrics,
  createLogDestination,
  createRedisState,
  type GatewayState,
  loadGatewayConfig,
  startGatewayCluster,
} from '@gatehouse/gateway'
import pino from 'pino'

const { positionals, values } = parseArgs({
  options: {
    'redis-key-prefix': { type: 'string' },
    // For tools/gateway-ab.ts: the access log's level and the destination's buffer (bytes).
    'log-level': { type: 'string', default: 'info' },
    'log-buffer': { type: 'string' },
  },
  allowPositionals: true,
})
const [configFile, workersArgument] = positionals
const redisKeyPrefix = values['redis-key-prefix']
const workers = Number(workersArgument ?? '1')
const logFile = process.env.GATEHOUSE_BENCH_GATEWAY_LOG
if (configFile === undefined || logFile === undefined || !Number.isInteger(workers)) {
  console.error('usage: GATEHOUSE_BENCH_GATEWAY_LOG=<file> gateway.js <config.json> <workers>')
  process.exit(2)
}
// The same destination `gatehouse serve` gives the gateway: lines written a few KiB at a time.
const logBuffer = values['log-buffer']
const logger = pino(
  { name: 'gatehouse-gateway', level: values['log-level'] },
  createLogDestination({
    dest: logFile,
    ...(logBuffer === undefined ? {} : { bufferBytes: Number(logBuffer) }),
  }),
)
const loadConfig = () => loadGatewayConfig(configFile, { env: process.env })
process.on('SIGUSR2', () => globalThis.gc?.())

if (workers === 1) {
  const config = loadConfig()
  const metrics = createGatewayMetrics()
  const state = redisKeyPrefix === undefined ? undefined : await openRedisState(redisKeyPrefix)
  const gateway = createGateway(config, {
    logger,
    metrics,
    ...(state === undefined ? {} : { state }),
  })
  const address = await gateway.listen()
  const ready = {
    port: Number(new URL(address.url).port),
    adminUrl: address.adminUrl,
    state: state === undefined ? 'memory' : `Redis (key prefix ${redisKeyPrefix})`,
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
  process.on('SIGTERM', () => {
    void gateway
      .close()
      .then(() => state?.close())
      .finally(() => process.exit(0))
  })

  async function openRedisState(keyPrefix: string): Promise<GatewayState> {
    const url = process.env.GATEHOUSE_BENCH_REDIS_URL
    const entryKey = process.env.GATEHOUSE_BENCH_PHANTOM_ENTRY_KEY
    if (url === undefined || entryKey === undefined) {
      throw new Error(
        '--redis-key-prefix needs GATEHOUSE_BENCH_REDIS_URL and GATEHOUSE_BENCH_PHANTOM_ENTRY_KEY',
      )
    }
    return createRedisState({
      url,
      keyPrefix,
      logger,
      registry: metrics.registry,
      maxPhantomEntries: config.settings.phantomCache.maxEntries,
      phantomEntryKey: Buffer.from(entryKey, 'base64'),
    })
  }
} else {
  const handle = await startGatewayCluster({ workers, loadConfig, logger })
  if (handle.role === 'primary') {
    // Workers share the configured port (the suite picks a free one): report it once all listen.
    process.stdout.write(`${JSON.stringify({ port: loadConfig().settings.listen.port })}\n`)
  }
  process.on('SIGTERM', () => {
    void handle.close().finally(() => process.exit(0))
  })
}
