/**
 * Child-process entry: the Gatehouse gateway from a configuration file, `node gateway.js
 * <config.json> <workers>`. One worker runs `createGateway` in this process; more run
 * `startGatewayCluster` (what `gatehouse serve gateway --workers N` runs). The access log goes to
 * GATEHOUSE_BENCH_GATEWAY_LOG (a file, as in production; never the benchmark's pipe). Prints
 * `{"port":N, "adminUrl":…}` when listening; SIGUSR2 runs a full garbage collection (with --expose-gc) before
 * a memory reading; exits on SIGTERM.
 */
import { createGateway, loadGatewayConfig, startGatewayCluster } from '@gatehouse/gateway'
import pino from 'pino'

const [configFile, workersArgument] = process.argv.slice(2)
const workers = Number(workersArgument ?? '1')
const logFile = process.env.GATEHOUSE_BENCH_GATEWAY_LOG
if (configFile === undefined || logFile === undefined || !Number.isInteger(workers)) {
  console.error('usage: GATEHOUSE_BENCH_GATEWAY_LOG=<file> gateway.js <config.json> <workers>')
  process.exit(2)
}
const logger = pino(
  { name: 'gatehouse-gateway' },
  pino.destination({ dest: logFile, append: true, sync: false }),
)
const loadConfig = () => loadGatewayConfig(configFile, { env: process.env })
process.on('SIGUSR2', () => globalThis.gc?.())

if (workers === 1) {
  const gateway = createGateway(loadConfig(), { logger })
  const address = await gateway.listen()
  const ready = { port: Number(new URL(address.url).port), adminUrl: address.adminUrl }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
  process.on('SIGTERM', () => {
    void gateway.close().finally(() => process.exit(0))
  })
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
