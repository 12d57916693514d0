import type { RequestListener } from 'node:http'

const BODY = JSON.stringify({ hello: 'world' })
const HEADERS = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) }

/** The upstream of every HTTP suite: a node:http server answering a small JSON document. */
export function createHelloUpstream(): RequestListener {
  return function sayHello(request, response) {
    request.resume()
    response.writeHead(200, HEADERS)
    response.end(BODY)
  }
}
