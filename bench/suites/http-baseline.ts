import { startBaselineServer } from '../baselines/start-baseline.js'
import type { ChildServer } from '../harness/child-server.js'
import {
  compareHttp,
  defaultHttpLoad,
  type HttpTarget,
  loadTargetsInterleaved,
} from '../harness/http-comparison.js'
import type { Suite } from '../harness/types.js'

const DIRECT = 'upstream hit directly'
const NODE_PROXY = 'node:http keep-alive proxy'
const UNDICI_PROXY = 'undici Pool proxy (pool.stream)'

/**
 * The floor under any Node gateway: a node:http hello-JSON upstream hit directly, and through
 * the two minimal Node pass-through proxies of `bench/baselines/`. Servers run in their own
 * processes on the server core(s); the load generator runs alone on its own core.
 */
export const httpBaselineSuite: Suite = {
  name: 'http-baseline',
  description: 'hello-JSON upstream direct vs minimal node:http and undici Pool proxies',
  usesHttpLoad: true,
  async run(context) {
    const servers: ChildServer[] = []
    try {
      const upstream = await startBaselineServer('hello-upstream', context.cpu.serverCores)
      servers.push(upstream)
      const nodeProxy = await startBaselineServer(
        'node-http-proxy',
        context.cpu.serverCores,
        upstream.url,
      )
      servers.push(nodeProxy)
      const undiciProxy = await startBaselineServer(
        'undici-pool-proxy',
        context.cpu.serverCores,
        upstream.url,
      )
      servers.push(undiciProxy)
      // The same request a gateway route will get: a bearer token the baselines pass through.
      const headers = { authorization: 'Bearer bench-opaque-token-0123456789abcdef' }
      const targets: HttpTarget[] = [
        { name: DIRECT, url: upstream.url, headers },
        { name: NODE_PROXY, url: nodeProxy.url, headers },
        { name: UNDICI_PROXY, url: undiciProxy.url, headers },
      ]
      const measured = await loadTargetsInterleaved(context, targets, defaultHttpLoad(context))
      const suite = 'http-baseline'
      return [
        ...compareHttp({ suite, contender: NODE_PROXY, baseline: DIRECT, measured }),
        ...compareHttp({ suite, contender: UNDICI_PROXY, baseline: DIRECT, measured }),
        ...compareHttp({ suite, contender: UNDICI_PROXY, baseline: NODE_PROXY, measured }),
      ]
    } finally {
      await Promise.all(servers.map((server) => server.close()))
    }
  },
}
