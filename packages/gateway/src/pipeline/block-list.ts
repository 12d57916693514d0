import type { BlockList } from 'node:net'
import { Blocked } from '../errors.js'
import { addressIn, createAddressList } from './client-ip.js'
import type { Principal } from './types.js'

export interface BlockListConfig {
  readonly ips: readonly string[]
  readonly clientIds: readonly string[]
  readonly subjects: readonly string[]
}

/**
 * The block list: static entries from the config, plus temporary blocks the abuse detectors add.
 * The IP check runs before any other work (before even matching a route).
 */
export interface BlockListGuard {
  checkIp(ip: string): void
  checkPrincipal(who: Principal): void
  /** A temporary block, e.g. from an abuse detector. */
  blockTemporarily(kind: 'ip' | 'client' | 'subject', value: string, seconds: number): void
}

export function createBlockListGuard(
  config: BlockListConfig,
  now: () => number = Date.now,
): BlockListGuard {
  const ips: BlockList = createAddressList(config.ips)
  const clientIds = new Set(config.clientIds)
  const subjects = new Set(config.subjects)
  const temporary = new Map<string, number>()
  const temporarilyBlocked = (key: string): boolean => {
    const until = temporary.get(key)
    if (until === undefined) return false
    if (until > now()) return true
    temporary.delete(key)
    return false
  }
  return {
    checkIp(ip) {
      if (addressIn(ips, ip) || (temporary.size > 0 && temporarilyBlocked(`ip:${ip}`))) {
        throw new Blocked('block.ip')
      }
    },
    checkPrincipal(who) {
      if (who.clientId !== undefined) {
        if (clientIds.has(who.clientId)) throw new Blocked('block.client')
        if (temporary.size > 0 && temporarilyBlocked(`client:${who.clientId}`))
          throw new Blocked('block.abuse')
      }
      if (who.subject !== undefined) {
        if (subjects.has(who.subject)) throw new Blocked('block.subject')
        if (temporary.size > 0 && temporarilyBlocked(`subject:${who.subject}`))
          throw new Blocked('block.abuse')
      }
    },
    blockTemporarily(kind, value, seconds) {
      temporary.set(`${kind}:${value}`, now() + seconds * 1000)
      // Bounded: an attacker rotating addresses cannot grow this without end.
      if (temporary.size > 100_000) {
        const oldest = temporary.keys().next().value
        if (oldest !== undefined) temporary.delete(oldest)
      }
    },
  }
}
