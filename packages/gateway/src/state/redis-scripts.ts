import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * The Lua scripts of the Redis state. Each runs atomically in Redis, so instances never race a
 * read-modify-write. Times come from Redis' own clock (`TIME`), not the instances' clocks, so a
 * skewed instance cannot refill a bucket early.
 */

/**
 * One token bucket per key: KEYS[1] = the bucket hash; ARGV = capacity, window in ms.
 * Returns { allowed (0/1), tokens left (string: Lua numbers become integers on the way out) }.
 * An idle bucket expires once it would be full again: an absent bucket is a full one.
 */
export const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_ms = capacity / window_ms
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * per_ms)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / per_ms) + 1000)
return { allowed, tostring(tokens) }
`

/**
 * Stores a phantom-cache entry unless the token was revoked a moment ago (a tombstone by hash or
 * by jti), so an introspection that raced a revocation cannot re-insert the revoked token.
 * KEYS = entry, hash tombstone, jti tombstone, jti index; ARGV = value, ttl ms, has jti (0/1).
 */
export const SET_PHANTOM = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] == '1' then redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[2]) end
return 1
`

/**
 * Evicts a phantom-cache entry by token hash and/or jti and leaves tombstones for `ARGV[3]` ms.
 * A split token's entry is keyed by the same hash (of what the client holds), so it goes too.
 * KEYS = entry prefix, tombstone prefix, jti index prefix, jti tombstone prefix, split prefix;
 * ARGV = token hash or '', jti or '', tombstone ms.
 * The keys are built from prefixes inside the script because the jti → hash lookup happens here.
 */
export const EVICT_PHANTOM = `
local hash = ARGV[1]
local jti = ARGV[2]
local keep = ARGV[3]
if jti ~= '' then
  local indexed = redis.call('GET', KEYS[3] .. jti)
  redis.call('DEL', KEYS[3] .. jti)
  redis.call('SET', KEYS[4] .. jti, '1', 'PX', keep)
  if indexed then
    redis.call('DEL', KEYS[1] .. indexed)
    redis.call('SET', KEYS[2] .. indexed, '1', 'PX', keep)
  end
end
if hash ~= '' then
  redis.call('DEL', KEYS[1] .. hash, KEYS[5] .. hash)
  redis.call('SET', KEYS[2] .. hash, '1', 'PX', keep)
end
return 1
`

/**
 * A sliding-window log for the abuse detectors: KEYS[1] = the sorted set; ARGV = window ms, max
 * entries, a unique member. Records the member at Redis' time, drops what left the window (and the
 * oldest beyond the bound), and returns the members inside the window, oldest first.
 */
export const RECORD_IN_WINDOW = `
local window_ms = tonumber(ARGV[1])
local max_entries = tonumber(ARGV[2])
local t = redis.call('TIME')
-- Microseconds: two recordings never share a score, so the order is the order of arrival.
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window_ms * 1000)
redis.call('ZADD', KEYS[1], now, ARGV[3])
local size = redis.call('ZCARD', KEYS[1])
if size > max_entries then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - max_entries - 1) end
redis.call('PEXPIRE', KEYS[1], window_ms)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`

export type ScriptRunner = (
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>

/**
 * Runs a script by its SHA-1 (EVALSHA, so the body crosses the wire only once) and falls back to
 * EVAL — which also loads it — when Redis answers NOSCRIPT (after a restart, a failover or a
 * SCRIPT FLUSH). ioredis' `defineCommand` does the same but adds untyped methods to the client;
 * these few lines keep the calls typed.
 */
export function createScriptRunner(redis: Redis, lua: string): ScriptRunner {
  const sha = createHash('sha1').update(lua).digest('hex')
  return async function runScript(keys, args) {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return redis.eval(lua, keys.length, ...keys, ...args)
    }
  }
}
