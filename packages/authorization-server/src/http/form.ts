import type { IncomingMessage } from 'node:http'
import { InvalidRequest, RequestTooLarge } from '../errors.js'

export type FormParameters = ReadonlyMap<string, string>

export interface FormLimits {
  readonly maxBodyBytes: number
  readonly maxParameterLength: number
}

/** Reads the raw body up to `maxBytes`; a larger body is refused without reading it all. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume()
    throw new RequestTooLarge('the request body is too large', 'http.body_too_large')
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = chunk as Buffer
    size += buffer.byteLength
    if (size > maxBytes) {
      req.resume()
      throw new RequestTooLarge('the request body is too large', 'http.body_too_large')
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

/**
 * Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2, §4.1.3). Every parameter
 * may appear once: a repeated one is refused (RFC 6749 §3.1), as are oversized values. Empty
 * values are treated as omitted (RFC 6749 §3.1).
 */
export function parseForm(
  body: string,
  limits: FormLimits,
  repeatable: ReadonlySet<string> = new Set(),
): { single: FormParameters; repeated: ReadonlyMap<string, readonly string[]> } {
  const single = new Map<string, string>()
  const repeated = new Map<string, string[]>()
  const names = new Set<string>()
  if (body.length === 0) return { single, repeated }
  for (const [name, value] of new URLSearchParams(body)) {
    if (value.length > limits.maxParameterLength || name.length > 256) {
      throw new InvalidRequest(`parameter ${safeName(name)} is too long`, 'form.too_long')
    }
    if (repeatable.has(name)) {
      if (value !== '') repeated.set(name, [...(repeated.get(name) ?? []), value])
      continue
    }
    if (names.has(name)) {
      throw new InvalidRequest(`parameter ${safeName(name)} is repeated`, 'form.duplicate')
    }
    names.add(name)
    if (value !== '') single.set(name, value)
  }
  return { single, repeated }
}

function safeName(name: string): string {
  return /^[a-z_]{1,40}$/.test(name) ? name : '(unnamed)'
}

/** Reads and parses a form POST; refuses other media types (RFC 6749 §4.1.3, RFC 7662 §2.1). */
export async function readForm(
  req: IncomingMessage,
  limits: FormLimits,
  repeatable?: ReadonlySet<string>,
): Promise<{ single: FormParameters; repeated: ReadonlyMap<string, readonly string[]> }> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (contentType !== 'application/x-www-form-urlencoded') {
    req.resume()
    throw new InvalidRequest(
      'the request body must be application/x-www-form-urlencoded',
      'form.content_type',
    )
  }
  const body = await readBody(req, limits.maxBodyBytes)
  return parseForm(body.toString('utf8'), limits, repeatable)
}
