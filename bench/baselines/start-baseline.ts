import { fileURLToPath } from 'node:url'
import { type ChildServer, startChildServer } from '../harness/child-server.js'

/** The baseline servers `serve.js` can run. Keep in step with its table. */
export type BaselineServerKind = 'hello-upstream' | 'node-http-proxy' | 'undici-pool-proxy'

const SERVE_SCRIPT = fileURLToPath(new URL('./serve.js', import.meta.url))

/** Starts a baseline server in its own process, pinned to `cores` when given. */
export function startBaselineServer(
  kind: BaselineServerKind,
  cores: string | undefined,
  upstream?: URL,
): Promise<ChildServer> {
  return startChildServer({
    name: kind,
    script: SERVE_SCRIPT,
    args: upstream === undefined ? [kind] : [kind, upstream.href],
    cores,
  })
}
