/**
 * Child-process entry for the baseline servers: `node serve.js <kind> [upstream-url]`. Listens
 * on 127.0.0.1 on a free port and prints `{"port":N}` as its first stdout line
 * (harness/child-server.ts reads it). With GATEHOUSE_BENCH_TLS_CERT_FILE and
 * GATEHOUSE_BENCH_TLS_KEY_FILE set it listens with TLS (node:https), as the gateway does. The
 * `-logged` kind writes its access log to the file GATEHOUSE_BENCH_ACCESS_LOG.
 * Exits on SIGTERM.
 */
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type RequestListener } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createLogDestination } from '@gatehouse/gateway'
import pino from 'pino'
import { withAccessLog } from './access-logged.js'
import { createHelloUpstream } from './hello-upstream.js'
import { createNodeHttpProxy } from './node-http-proxy.js'
import { createUndiciPoolProxy } from './undici-pool-proxy.js'

const BASELINE_SERVERS = {
  'hello-upstream': () => createHelloUpstream(),
  'node-http-proxy': (upstream: URL) => createNodeHttpProxy(upstream),
  'undici-pool-proxy': (upstream: URL) => createUndiciPoolProxy(upstream),
  'undici-pool-proxy-logged': (upstream: URL) =>
    withAccessLog(createUndiciPoolProxy(upstream), accessLogger()),
} as const satisfies Record<string, (upstream: URL) => RequestListener>

function isKind(kind: string | undefined): kind is keyof typeof BASELINE_SERVERS {
  return kind !== undefined && Object.hasOwn(BASELINE_SERVERS, kind)
}

function accessLogger() {
  const file = process.env.GATEHOUSE_BENCH_ACCESS_LOG
  if (file === undefined) {
    console.error('GATEHOUSE_BENCH_ACCESS_LOG must name the access-log file')
    process.exit(2)
  }
  return pino({ name: 'bench-proxy' }, createLogDestination({ dest: file }))
}

const [kind, upstream] = process.argv.slice(2)
if (!isKind(kind)) {
  console.error(`usage: serve.js <${Object.keys(BASELINE_SERVERS).join('|')}> [upstream-url]`)
  process.exit(2)
}
const listener = BASELINE_SERVERS[kind](new URL(upstream ?? 'http://127.0.0.1:1/'))
const certFile = process.env.GATEHOUSE_BENCH_TLS_CERT_FILE
const keyFile = process.env.GATEHOUSE_BENCH_TLS_KEY_FILE
const server =
  certFile === undefined || keyFile === undefined
    ? createHttpServer(listener)
    : createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, listener)
// Longer than any pause of a target between its rounds (a full run interleaves eight targets):
// an upstream that closes idle keep-alive connections races a proxy reusing one at that moment,
// and the proxy then answers 502 (a full run once stopped on two such answers).
server.keepAliveTimeout = 600_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
