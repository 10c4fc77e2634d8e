import { CacheError, CacheValue } from '@cache/core';
import { protocolError } from './link.js';
import type { RedisArg } from './node-redis.js';

/**
 * One Redis hash per entry, readable by hitbox (`HMGET key d s` + `PTTL key`):
 * - `d`: the payload, `compress(serialize(data))`;
 * - `s`: the stale instant, Unix milliseconds in decimal, only when the value has one;
 * - `e`: the expire instant, Unix milliseconds in decimal, only when the value has one (ours: reading it back
 *   avoids the drift of `now + PTTL`). The key's own TTL stays the authority: `e` is only believed when it is not
 *   later than `now + PTTL`, since hitbox rewrites an entry in place (`HSET` + `EXPIRE` in whole seconds, no `DEL`)
 *   and leaves our `e` behind, later than the key's new TTL;
 * - `c`: `<format id>/<compressor id>` of the writer (ours), so a reader with another codec gets a typed error
 *   instead of garbage. Entries without it (hitbox's) are decoded with the reader's codec.
 */
export const FIELDS = Object.freeze({ data: 'd', stale: 's', expire: 'e', codec: 'c' });

/** The `HMGET` field list of a read, in the order {@link parseEntry} expects. */
export const READ_FIELDS: readonly string[] = Object.freeze([
  FIELDS.data,
  FIELDS.stale,
  FIELDS.expire,
  FIELDS.codec,
]);

/** The codec tag stored in `c`. */
export function codecTag(formatId: string, compressorId: string): string {
  return `${formatId}/${compressorId}`;
}

/** Arguments of the `HSET` that writes `value` (the key goes first). */
export function hsetArgs(key: RedisArg, value: CacheValue<Uint8Array>, codec: string): RedisArg[] {
  const data = Buffer.isBuffer(value.data)
    ? value.data
    : Buffer.from(value.data.buffer, value.data.byteOffset, value.data.byteLength);
  const args: RedisArg[] = ['HSET', key, FIELDS.data, data, FIELDS.codec, codec];
  if (value.stale !== undefined) args.push(FIELDS.stale, String(value.stale));
  if (value.expire !== undefined) args.push(FIELDS.expire, String(value.expire));
  return args;
}

/** How much earlier than `now + PTTL` the stored `e` may be and still be trusted (else another writer changed the TTL). */
const EXPIRE_AGREEMENT_MS = 1000;
const INTEGER = /^-?\d{1,16}$/;

function instant(field: Buffer, name: string): number {
  const text = field.toString('latin1');
  const ms = INTEGER.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new CacheError('CORRUPT_ENTRY', `field "${name}" is not a Unix millisecond timestamp`);
  }
  return ms;
}

/**
 * The expire instant to report, given the key's own TTL (`now + PTTL`) and our stored `e`. `now` is read after the
 * reply arrived, so `now + PTTL` is never earlier than the instant the server drops the key: reporting anything
 * later would let a memory tier serve the value after Redis dropped it. The stored `e` is exact where `now + PTTL`
 * drifts by the reply's latency, so it wins when it is a little earlier; far earlier, another writer set the TTL.
 */
function expireInstant(fromTtl: number, stored: number | undefined): number {
  if (stored === undefined || stored > fromTtl || fromTtl - stored > EXPIRE_AGREEMENT_MS) return fromTtl;
  return stored;
}

function isInteger(value: unknown): value is number {
  return Number.isSafeInteger(value);
}

function isBytes(value: unknown): value is Buffer {
  return Buffer.isBuffer(value);
}

/**
 * Turns the replies of `HMGET key d s e c` and `PTTL key` into a value, or `undefined` for a miss. Anything that is
 * not an entry of this layout (a hash without `d`, a non-numeric `s`, another codec) is a typed error, never a
 * wrong value: the store may be shared with other programs.
 */
export function parseEntry(
  fields: unknown,
  pttl: unknown,
  now: number,
  codec: string,
): CacheValue<Uint8Array> | undefined {
  if (!Array.isArray(fields) || fields.length !== READ_FIELDS.length || !isInteger(pttl)) {
    throw protocolError('HMGET/PTTL');
  }
  const [data, stale, expire, tag] = fields as unknown[];
  if (data === null || data === undefined) {
    if (stale == null && expire == null && tag == null) return undefined;
    throw new CacheError('CORRUPT_ENTRY', 'the hash has metadata fields but no "d" payload');
  }
  if (
    !isBytes(data) ||
    (stale != null && !isBytes(stale)) ||
    (expire != null && !isBytes(expire)) ||
    (tag != null && !isBytes(tag))
  ) {
    throw protocolError('HMGET (a field that is not a byte string)');
  }
  // PTTL: -2 the key vanished (expired between the two commands), -1 no expiry, else remaining milliseconds.
  if (pttl === -2 || pttl === 0) return undefined;
  if (tag != null) {
    const written = (tag as Buffer).toString('utf8');
    if (written !== codec) {
      throw new CacheError(
        'CODEC_MISMATCH',
        `entry was written with "${written.slice(0, 64)}", this backend reads "${codec}"`,
      );
    }
  }
  const staleAt = stale == null ? undefined : instant(stale, FIELDS.stale);
  let expireAt: number | undefined;
  if (pttl > 0) {
    expireAt = expireInstant(now + pttl, expire == null ? undefined : instant(expire, FIELDS.expire));
  } else if (pttl !== -1) {
    throw protocolError('PTTL');
  }
  return new CacheValue<Uint8Array>(data, expireAt, staleAt);
}
