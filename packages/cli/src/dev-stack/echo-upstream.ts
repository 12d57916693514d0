import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The dev stack's `echo` upstream: answers with the method, path and headers it received (like
 * httpbin), so users can see exactly what the gateway forwards — the JWT that replaced their
 * opaque token, the stripped headers, `X-Request-Id`, `Forwarded`. Bodies are counted, not echoed.
 */
export function echoHandler(req: IncomingMessage, res: ServerResponse): void {
  let bodyBytes = 0
  req.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.length
  })
  req.on('end', () => {
    const body = JSON.stringify(
      { method: req.method, path: req.url, headers: req.headers, bodyBytes },
      null,
      2,
    )
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(body)
  })
}
