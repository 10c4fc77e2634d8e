// hitbox interop, both ways, with plain Redis commands standing in for hitbox-redis 0.2 (no namespace: hitbox has
// none; keys are made unique by the CacheKey prefix instead).
import { randomBytes } from 'node:crypto';
import { CacheKey, CacheValue, compose, urlEncodeKey } from '@cache/core';
import { json } from '@cache/formats';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { rawClient, singleBackend } from './helpers.js';

const prefix = `interop-${randomBytes(4).toString('hex')}`;
const raw = await rawClient();
const redis = singleBackend({ valueFormat: json });
const written: Buffer[] = [];
afterAll(async () => {
  for (const key of written) await raw.del(key);
  await redis.close();
  await raw.close();
});

function hitboxKey(name: string): { key: CacheKey; redisKey: Buffer } {
  const key = CacheKey.of('id', name, { prefix });
  const redisKey = Buffer.from(urlEncodeKey(key));
  written.push(redisKey);
  return { key, redisKey };
}

describe('reading entries hitbox wrote', () => {
  it('HSET d s + PEXPIRE: data, stale to the millisecond, expire from PTTL', async () => {
    const { key, redisKey } = hitboxKey('full');
    expect(redisKey.toString()).toBe(`_prefix=${prefix}&_version=0&id=full`);
    const stale = Date.now() + 5_000;
    await raw.hSet(redisKey, { d: '{"user":"ada","n":[1,2]}', s: String(stale) });
    await raw.pExpire(redisKey, 60_000);
    const before = Date.now();
    const value = await redis.get<{ user: string; n: number[] }>(key);
    expect(value?.data).toEqual({ user: 'ada', n: [1, 2] });
    expect(value?.stale).toBe(stale);
    expect(value?.expire).toBeGreaterThanOrEqual(before + 59_000);
    expect(value?.expire).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(value?.state()).toBe('actual');
  });

  it('an entry whose stale instant has passed reads as stale', async () => {
    const { key, redisKey } = hitboxKey('stale');
    await raw.hSet(redisKey, { d: '"old"', s: String(Date.now() - 1_000) });
    await raw.expire(redisKey, 60);
    const value = await redis.get<string>(key);
    expect(value?.data).toBe('old');
    expect(value?.state()).toBe('stale');
  });

  it('no s field and no TTL: no stale, never expires', async () => {
    const { key, redisKey } = hitboxKey('plain');
    await raw.hSet(redisKey, 'd', '42');
    const value = await redis.get<number>(key);
    expect(value).toEqual(new CacheValue(42));
  });

  it('an entry past its PEXPIRE is a miss', async () => {
    const { key, redisKey } = hitboxKey('gone');
    await raw.hSet(redisKey, 'd', '1');
    await raw.pExpire(redisKey, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await redis.get(key)).toBeUndefined();
  });

  it('hitbox overwriting one of our entries (HSET without DEL, new TTL) is read with the new TTL', async () => {
    const { key, redisKey } = hitboxKey('overwritten');
    await redis.set(key, CacheValue.fromTtl('ours', { ttlMs: 60_000 }));
    await raw.hSet(redisKey, 'd', '"theirs"');
    await raw.pExpire(redisKey, 300_000);
    const value = await redis.get<string>(key);
    expect(value?.data).toBe('theirs');
    // Our stale `e` (60 s) no longer agrees with the key's TTL, so the TTL wins.
    expect(value?.expire).toBeGreaterThan(Date.now() + 290_000);
  });
});

describe('hitbox rewriting one of our entries in place (HSET d s, then EXPIRE in whole seconds, no DEL)', () => {
  /** Writes ours with a 10.7 s TTL, then overwrites it as hitbox does with `EXPIRE 10`: our `e` stays behind, 700 ms too late. */
  async function overwrittenByHitbox(name: string): Promise<CacheKey> {
    const { key, redisKey } = hitboxKey(name);
    await redis.set(key, CacheValue.fromTtl('ours', { ttlMs: 10_700 }));
    await raw.hSet(redisKey, { d: '"theirs"', s: String(Date.now() + 5_000) });
    await raw.expire(redisKey, 10);
    expect(Number(String(await raw.hGet(redisKey, 'e')))).toBeGreaterThan(Date.now() + 10_000);
    return key;
  }

  it('never reports an expire later than the key really expires', async () => {
    const key = await overwrittenByHitbox('shorter-ttl');
    const value = await redis.get<string>(key);
    expect(value?.data).toBe('theirs');
    // The key dies at most 10 s after hitbox's EXPIRE, which ran before now.
    expect(value?.expire).toBeLessThanOrEqual(Date.now() + 10_000);
  });

  it('a memory tier refilled from it does not outlive the Redis key', async () => {
    const key = await overwrittenByHitbox('shorter-ttl-refill');
    const l1 = memoryBackend({ maxEntries: 10 });
    const tiers = compose(l1, redis, { label: 'interop' });
    expect((await tiers.get<string>(key))?.data).toBe('theirs');
    await tiers.whenIdle();
    const refilled = await l1.get<string>(key);
    expect(refilled?.data).toBe('theirs');
    expect(refilled?.expire).toBeLessThanOrEqual(Date.now() + 10_000);
  });
});

describe('hitbox reading entries we wrote', () => {
  it('HMGET d s + PTTL gives the payload, the stale milliseconds and the remaining TTL', async () => {
    const { key, redisKey } = hitboxKey('ours');
    const now = Date.now();
    await redis.set(key, new CacheValue({ from: 'ts' }, now + 30_000, now + 10_000));
    const [d, s] = await raw.hmGet(redisKey, ['d', 's']);
    expect(JSON.parse(String(d))).toEqual({ from: 'ts' });
    expect(Number(String(s))).toBe(now + 10_000);
    const pttl = await raw.pTTL(redisKey);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });
});
