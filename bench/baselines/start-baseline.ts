import { fileURLToPath } from 'node:url'
import { type ChildServer, startChildServer } from '../harness/child-server.js'

/** The baseline servers `serve.js` can run. Keep in step with its table. */
export type BaselineServerKind =
  | 'hello-upstream'
  | 'node-http-proxy'
  | 'undici-pool-proxy'
  | 'undici-pool-proxy-logged'

/** Certificate and key files: the server then listens with TLS, as the gateway does. */
export interface BaselineTls {
  readonly certFile: string
  readonly keyFile: string
}

const SERVE_SCRIPT = fileURLToPath(new URL('./serve.js', import.meta.url))

/**
 * Starts a baseline server in its own process, pinned to `cores` when given. `accessLogFile` is
 * where the `-logged` kind writes its access log.
 */
export function startBaselineServer(
  kind: BaselineServerKind,
  cores: string | undefined,
  upstream?: URL,
  tls?: BaselineTls,
  accessLogFile?: string,
): Promise<ChildServer> {
  return startChildServer({
    name: tls === undefined ? kind : `${kind} (TLS)`,
    script: SERVE_SCRIPT,
    args: upstream === undefined ? [kind] : [kind, upstream.href],
    cores,
    ...(tls === undefined ? {} : { protocol: 'https' as const }),
    env: {
      ...(tls === undefined
        ? {}
        : {
            GATEHOUSE_BENCH_TLS_CERT_FILE: tls.certFile,
            GATEHOUSE_BENCH_TLS_KEY_FILE: tls.keyFile,
          }),
      ...(accessLogFile === undefined ? {} : { GATEHOUSE_BENCH_ACCESS_LOG: accessLogFile }),
    },
  })
}
