import type { BlockList } from 'node:net'
import { Blocked } from '../errors.js'
import { addressIn, createAddressList } from './client-ip.js'
import type { Principal } from './types.js'

export interface BlockListConfig {
  readonly ips: readonly string[]
  readonly clientIds: readonly string[]
  readonly subjects: readonly string[]
}

/** Temporary blocks raised by the abuse detectors; kept across configuration reloads. */
export interface TemporaryBlocks {
  block(kind: 'ip' | 'client' | 'subject', value: string, seconds: number): void
  isBlocked(kind: 'ip' | 'client' | 'subject', value: string): boolean
  readonly size: number
}

export function createTemporaryBlocks(now: () => number = Date.now): TemporaryBlocks {
  const until = new Map<string, number>()
  return {
    block(kind, value, seconds) {
      until.set(`${kind}:${value}`, now() + seconds * 1000)
      // Bounded: an attacker rotating addresses cannot grow this without end.
      if (until.size > 100_000) {
        const oldest = until.keys().next().value
        if (oldest !== undefined) until.delete(oldest)
      }
    },
    isBlocked(kind, value) {
      const key = `${kind}:${value}`
      const end = until.get(key)
      if (end === undefined) return false
      if (end > now()) return true
      until.delete(key)
      return false
    },
    get size() {
      return until.size
    },
  }
}

/**
 * The block list: static entries from the config, plus temporary blocks the abuse detectors add.
 * The IP check runs before any other work (before even matching a route).
 */
export interface BlockListGuard {
  checkIp(ip: string): void
  checkPrincipal(who: Principal): void
}

export function createBlockListGuard(
  config: BlockListConfig,
  temporary: TemporaryBlocks,
): BlockListGuard {
  const ips: BlockList | undefined =
    config.ips.length === 0 ? undefined : createAddressList(config.ips)
  const clientIds = new Set(config.clientIds)
  const subjects = new Set(config.subjects)
  return {
    checkIp(ip) {
      if (ips !== undefined && addressIn(ips, ip)) throw new Blocked('block.ip')
      if (temporary.size > 0 && temporary.isBlocked('ip', ip)) throw new Blocked('block.abuse')
    },
    checkPrincipal(who) {
      if (who.clientId !== undefined) {
        if (clientIds.has(who.clientId)) throw new Blocked('block.client')
        if (temporary.size > 0 && temporary.isBlocked('client', who.clientId))
          throw new Blocked('block.abuse')
      }
      if (who.subject !== undefined) {
        if (subjects.has(who.subject)) throw new Blocked('block.subject')
        if (temporary.size > 0 && temporary.isBlocked('subject', who.subject))
          throw new Blocked('block.abuse')
      }
    },
  }
}
