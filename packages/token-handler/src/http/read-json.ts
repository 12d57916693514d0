import type { IncomingMessage } from 'node:http'
import { InvalidRequest, RequestTooLarge, UnsupportedMediaType } from '../errors.js'

/** Reads the request body up to `maxBytes`; a longer one is refused before it is buffered. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0')
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume()
    throw new RequestTooLarge('the request body is too large', 'http.body_too_large')
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > maxBytes) {
      req.resume()
      throw new RequestTooLarge('the request body is too large', 'http.body_too_large')
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Reads a JSON object body (Content-Type application/json). */
export async function readJsonObject(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') {
    req.resume()
    throw new UnsupportedMediaType('the body must be application/json', 'http.content_type')
  }
  const body = await readBody(req, maxBytes)
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new InvalidRequest('the body is not valid JSON', 'http.json')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequest('the body must be a JSON object', 'http.json')
  }
  return parsed as Record<string, unknown>
}
