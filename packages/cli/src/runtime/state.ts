import {
  createRedisRevocationBus,
  createRedisSplitTokenStore,
  type RevocationBus,
  type SplitTokenStore,
} from '@gatehouse/authorization-server'
import {
  createMemoryState,
  createRedisState,
  type GatewayMetrics,
  type GatewayState,
} from '@gatehouse/gateway'
import type { Logger } from 'pino'
import type { GatehouseConfig } from '../config/schema.js'
import { RuntimeConfigError } from './errors.js'
import { resolveSecretRef, type SecretContext } from './secrets.js'

export type StateSettings = GatehouseConfig['state']

/** Where shared state lives, its secrets resolved. */
export type ResolvedState =
  | { readonly driver: 'memory' }
  | {
      readonly driver: 'redis'
      /** The connection URL without the `prefix` parameter (it may hold a password). */
      readonly url: string
      /** Prefix of every key and of the revocation channel; the same on every instance. */
      readonly keyPrefix: string
      /** Shares phantom-cache entries through Redis, encrypted; absent: per-instance caches. */
      readonly phantomEntryKey?: Uint8Array
    }

/** Optional, base64: 32 bytes shared by every gateway instance (see `createRedisState`). */
export const PHANTOM_ENTRY_KEY_ENV = 'GATEHOUSE_PHANTOM_ENTRY_KEY'
const KEY_PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/

/**
 * Resolves the `state` section. A Redis URL may carry a `prefix` query parameter
 * (`redis://cache:6379/0?prefix=shop:`, default `gatehouse:`) so deployments can share one Redis.
 */
export function resolveState(settings: StateSettings, context: SecretContext): ResolvedState {
  if (settings.driver === 'memory') return { driver: 'memory' }
  const raw = resolveSecretRef(settings.url, 'state.url', context)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new RuntimeConfigError('state.url', 'is not a URL (redis://host:6379/0)')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new RuntimeConfigError(
      'state.url',
      `must be a redis:// or rediss:// URL, not ${url.protocol}//`,
    )
  }
  const keyPrefix = url.searchParams.get('prefix') ?? 'gatehouse:'
  if (!KEY_PREFIX.test(keyPrefix)) {
    throw new RuntimeConfigError(
      'state.url',
      'the prefix parameter must be 1 to 64 letters, digits or : _ . -',
    )
  }
  url.searchParams.delete('prefix')
  const encodedKey = context.env[PHANTOM_ENTRY_KEY_ENV]?.trim()
  let phantomEntryKey: Uint8Array | undefined
  if (encodedKey !== undefined && encodedKey !== '') {
    const key = /^[A-Za-z0-9+/_-]+=*$/.test(encodedKey)
      ? Buffer.from(encodedKey.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : Buffer.alloc(0)
    if (key.byteLength !== 32) {
      throw new RuntimeConfigError(
        'state.url',
        `${PHANTOM_ENTRY_KEY_ENV} must be 32 bytes in base64 (got ${key.byteLength})`,
      )
    }
    phantomEntryKey = key
  }
  return {
    driver: 'redis',
    url: url.toString(),
    keyPrefix,
    ...(phantomEntryKey === undefined ? {} : { phantomEntryKey }),
  }
}

export function describeState(state: ResolvedState): string {
  if (state.driver === 'memory') return 'memory (this process)'
  const url = new URL(state.url)
  if (url.password !== '') url.password = '***'
  return `Redis ${url.toString()} (prefix ${state.keyPrefix})`
}

/** What the authorization server shares: revocation events and split-token entries. */
export interface AuthorizationServerSharedState {
  /** Absent with `memory`: the server's in-process bus and split-token store. */
  readonly revocations?: RevocationBus
  readonly splitTokens?: SplitTokenStore
  close(): Promise<void>
}

export async function openAuthorizationServerState(
  state: ResolvedState,
  onError: (error: Error) => void,
): Promise<AuthorizationServerSharedState> {
  if (state.driver === 'memory') return { async close() {} }
  const revocations = await createRedisRevocationBus({
    url: state.url,
    keyPrefix: state.keyPrefix,
    onError,
  })
  try {
    const splitTokens = await createRedisSplitTokenStore({
      url: state.url,
      keyPrefix: state.keyPrefix,
    })
    return {
      revocations,
      splitTokens,
      async close() {
        await Promise.all([revocations.close(), splitTokens.close()])
      },
    }
  } catch (error) {
    await revocations.close()
    throw error
  }
}

/** The gateway's state: in this process, or in Redis shared with every other instance. */
export async function openGatewayState(
  state: ResolvedState,
  options: {
    readonly logger: Logger
    readonly maxPhantomEntries: number
    /** Where the Redis health metrics go (the gateway's own registry, served on its admin port). */
    readonly registry?: GatewayMetrics['registry']
  },
): Promise<GatewayState> {
  if (state.driver === 'memory') {
    return createMemoryState({ maxPhantomEntries: options.maxPhantomEntries })
  }
  return createRedisState({
    url: state.url,
    keyPrefix: state.keyPrefix,
    logger: options.logger,
    maxPhantomEntries: options.maxPhantomEntries,
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(state.phantomEntryKey === undefined ? {} : { phantomEntryKey: state.phantomEntryKey }),
  })
}
