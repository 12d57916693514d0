import type { ServerResponse } from 'node:http'
import type { RenderedBearerError } from './bearer.js'

/** Writes a rendered error to a node:http response (the node:http and Express adapters). */
export function writeBearerError(res: ServerResponse, rendered: RenderedBearerError): void {
  if (res.headersSent) {
    // Too late for a status line: end the response so the client is not left waiting.
    res.end()
    return
  }
  res.writeHead(rendered.status, {
    ...rendered.headers,
    'content-length': String(Buffer.byteLength(rendered.body)),
  })
  res.end(rendered.body)
}
