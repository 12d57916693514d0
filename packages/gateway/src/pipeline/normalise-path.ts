import { BadRequestPath } from '../errors.js'

/**
 * Normalises a request path once; the result is used both to match a route and as the path
 * forwarded upstream, so a path cannot mean one thing to the gateway and another to the API.
 * Hand-written because no library applies this exact, deny-first policy (RFC 3986 §6.2.2):
 *  - only unreserved characters (ALPHA / DIGIT / "-" / "." / "_" / "~") are percent-decoded;
 *  - an encoded "/", "\" or "%" (double encoding), NUL or any control character is refused;
 *  - "." and ".." segments (also with path parameters, "..;x"), empty segments and "\" are
 *    refused rather than resolved;
 *  - `;` (path parameters) is refused unless `paths.allowParameters` is set;
 *  - other escapes stay encoded, with upper-case hex.
 */
export function normalisePath(
  rawPath: string,
  maxBytes: number,
  options: { readonly allowParameters?: boolean } = {},
): string {
  if (rawPath.length > maxBytes) throw new BadRequestPath('path.too_long')
  if (rawPath.charCodeAt(0) !== 0x2f) throw new BadRequestPath('path.not_absolute')
  // `out` is built only from the first escape on: a path without one is already normal, and
  // copying it a character at a time measured as one of the gateway's costlier steps.
  let out: string | undefined
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i)
    if (code === 0x25) {
      const hex = rawPath.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new BadRequestPath('path.bad_escape')
      const byte = Number.parseInt(hex, 16)
      if (out === undefined) out = rawPath.slice(0, i)
      i += 2
      if (isUnreserved(byte)) {
        out += String.fromCharCode(byte)
        continue
      }
      if (byte === 0x25) throw new BadRequestPath('path.double_encoding')
      if (byte === 0x2f || byte === 0x5c) throw new BadRequestPath('path.encoded_separator')
      if (byte < 0x20 || byte === 0x7f) throw new BadRequestPath('path.control_character')
      out += `%${hex.toUpperCase()}`
      continue
    }
    if (code <= 0x20 || code >= 0x7f) throw new BadRequestPath('path.control_character')
    if (code === 0x5c) throw new BadRequestPath('path.backslash')
    // `;` starts a path parameter that Tomcat/Jetty strip before routing: `/admin;x` would be
    // `/admin` upstream but no `/admin` route here. Refused unless the deployment allows it.
    if (code === 0x3b && options.allowParameters !== true)
      throw new BadRequestPath('path.parameter')
    if (out !== undefined) out += rawPath[i]
  }
  const path = out ?? rawPath
  checkSegments(path)
  return path
}

/** Refuses "." and ".." segments (also "..;x") and empty segments other than a trailing slash. */
function checkSegments(path: string): void {
  let start = 1
  for (;;) {
    const slash = path.indexOf('/', start)
    const end = slash < 0 ? path.length : slash
    if (end === start) {
      // An empty segment is allowed only as the trailing slash.
      if (slash >= 0) throw new BadRequestPath('path.empty_segment')
      return
    }
    if (path.charCodeAt(start) === 0x2e) {
      // `..;x` is `..` to servers that strip path parameters (Tomcat, Jetty): refused the same way.
      const semicolon = path.indexOf(';', start)
      const segmentEnd = semicolon >= 0 && semicolon < end ? semicolon : end
      const length = segmentEnd - start
      if (length === 1 || (length === 2 && path.charCodeAt(start + 1) === 0x2e)) {
        throw new BadRequestPath('path.dot_segment')
      }
    }
    if (slash < 0) return
    start = slash + 1
  }
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  )
}
