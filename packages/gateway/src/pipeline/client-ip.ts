import type { IncomingHttpHeaders } from 'node:http'
import { BlockList, isIP } from 'node:net'

export interface ClientIpResolver {
  /** The client's address: the peer, or — only when the peer is a trusted proxy — from its headers. */
  resolve(peerIp: string, headers: IncomingHttpHeaders): string
  isTrusted(ip: string): boolean
}

/** Builds a `net.BlockList` (node's own CIDR matcher) from IPs and CIDRs. */
export function createAddressList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/')
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(prefix), family)
  }
  return list
}

export function addressIn(list: BlockList, ip: string): boolean {
  const family = isIP(ip)
  if (family === 0) return false
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Walks X-Forwarded-For (or RFC 7239 Forwarded) from the right, skipping trusted proxies: the
 * first untrusted hop is the client. From an untrusted peer these headers are ignored, so a client
 * cannot choose its own rate-limit key or dodge the block list by sending them.
 */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  const trusted = createAddressList(trustedProxies)
  const isTrusted = (ip: string) => addressIn(trusted, ip)
  return {
    isTrusted,
    resolve(peerIp, headers) {
      const peer = unmapIpv4(peerIp)
      if (trustedProxies.length === 0 || !isTrusted(peer)) return peer
      const hops = forwardedHops(headers)
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = unmapIpv4(hops[i] ?? '')
        if (isIP(hop) === 0) return peer
        if (!isTrusted(hop)) return hop
      }
      return hops.length > 0 ? unmapIpv4(hops[0] ?? peer) : peer
    },
  }
}

function forwardedHops(headers: IncomingHttpHeaders): string[] {
  const xff = headers['x-forwarded-for']
  if (typeof xff === 'string' && xff !== '') return xff.split(',').map((hop) => hop.trim())
  const forwarded = headers.forwarded
  if (typeof forwarded !== 'string' || forwarded === '') return []
  const hops: string[] = []
  for (const element of forwarded.split(',')) {
    const match = /(?:^|;)\s*for=("?)\[?([^\]";]+)\]?(?::\d+)?\1/i.exec(element)
    hops.push(match?.[2] ?? '')
  }
  return hops
}

export function unmapIpv4(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
}
