type Headers = Readonly<Record<string, string | string[] | undefined>>

/** RFC 9110 §7.6.1: connection-specific fields end at each hop and are never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
])

export function withoutHopByHop(headers: Headers): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined && !HOP_BY_HOP.has(name)) forwarded[name] = value
  }
  return forwarded
}
