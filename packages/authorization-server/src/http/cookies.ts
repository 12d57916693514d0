import type { IncomingMessage } from 'node:http'

/** Reads one cookie; a name present twice is treated as absent (cookie tossing). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  let found: string | undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    if (found !== undefined) return undefined
    found = part.slice(eq + 1).trim()
  }
  return found
}

/**
 * A `__Host-` cookie: Secure, Path=/, no Domain (so no sibling host can set or read it), HttpOnly,
 * SameSite=Lax (sent on the top-level navigation back from a client to /authorize, never on a
 * cross-site POST).
 */
export function hostCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`
}

export function clearedCookie(name: string): string {
  return `${name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`
}
