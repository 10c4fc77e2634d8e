import { createHash } from 'node:crypto';

/** A Lua script and its SHA1, for `EVALSHA` (with `EVAL` when the server does not know it yet). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: lock, fence counter, and optionally the entry the lock guards (same slot). ARGV: token, lease ms, fence
 * counter TTL ms.
 * Takes the lock when free (`SET NX PX`: it always has a TTL) and draws the next fence: one more than the last,
 * and never less than the server's clock in microseconds, so fences keep growing after the counter expired.
 * Answers `{1, fence, 1 when the entry exists else 0}` (the third only with the entry's key), or
 * `{0, PTTL of the holder's lock}`.
 */
export const ACQUIRE = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local now = redis.call('TIME')
  local fence = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local last = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  if last >= fence then fence = last + 1 end
  local text = string.format('%.0f', fence)
  redis.call('SET', KEYS[2], text, 'PX', ARGV[3])
  if KEYS[3] then return {1, text, redis.call('EXISTS', KEYS[3])} end
  return {1, text}
end
return {0, redis.call('PTTL', KEYS[1])}
`);

/** KEYS: lock. ARGV: token, lease ms. Extends the lock when it still holds the token: 1, else 0. */
export const RENEW = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/**
 * KEYS: lock. ARGV: token, channel, message (the lock key in base64). Deletes the lock when it still holds the token and, when a channel
 * is given, publishes the release on it (single node; a cluster publishes on its sharded channel afterwards).
 * 1 when released, else 0.
 */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
  return 1
end
return 0
`);

/**
 * KEYS: lock, entry. ARGV: token, fence, expire instant ('' for none), release ('1' to end the lease once
 * written, else '0'), channel of the release notice ('' for none), its message (the lock key in base64), then
 * the entry's field/value pairs.
 * The fenced write: replaces the entry (DEL, HSET with the fence in field \`f\`, PEXPIREAT) only while the lock
 * holds the writer's token, all in one atomic step; with release, also deletes the lock and publishes the notice
 * (as RELEASE does). 1 when written, 0 when the lease was lost (nothing written, nothing released).
 */
export const FENCED_WRITE = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'f', ARGV[2], unpack(ARGV, 7))
if ARGV[3] ~= '' then redis.call('PEXPIREAT', KEYS[2], ARGV[3]) end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
  if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
end
return 1
`);
