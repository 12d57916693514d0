import { Agent, type RequestListener, request as upstreamRequest } from 'node:http'
import { withoutHopByHop } from './hop-by-hop.js'

/**
 * The smallest honest node:http pass-through proxy: keep-alive agent to the upstream, bodies
 * streamed both ways. What any Node gateway pays at least; the gateway suite compares with it.
 * A request listener: `serve.ts` puts it behind node:http or node:https.
 */
export function createNodeHttpProxy(upstream: URL, maxSockets = 128): RequestListener {
  const agent = new Agent({ keepAlive: true, maxSockets })
  return function forward(request, response) {
    const outbound = upstreamRequest(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: withoutHopByHop(request.headers),
      },
      function relay(upstreamResponse) {
        response.writeHead(
          upstreamResponse.statusCode ?? 502,
          withoutHopByHop(upstreamResponse.headers),
        )
        upstreamResponse.pipe(response)
      },
    )
    outbound.on('error', function upstreamFailed() {
      if (!response.headersSent) response.writeHead(502)
      response.end()
    })
    request.pipe(outbound)
  }
}
