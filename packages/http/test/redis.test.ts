// Responses stored in Redis alone (no memory tier): what is read back is a copy decoded from CBOR, so these tests
// check that bodies and header lines round-trip exactly and that updates and removals find their variant by
// value. Needs Redis (REDIS_URL, the shared test server by default); a unique namespace, removed at the end.
import { randomBytes } from 'node:crypto';
import { RedisBackend } from '@cache/redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpCache } from '../src/index.js';
import { cacheStatus, countingHandler, fetchThrough } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const redis = new RedisBackend({ url: REDIS_URL, namespace: `http-test-${randomBytes(6).toString('hex')}:` });
let now = Date.now();
const cache = createHttpCache({ store: redis, now: () => now });

afterAll(async () => {
  await redis.clearPrefix('');
  await cache.close();
});

describe('over Redis', () => {
  it('bodies (every byte value) and header lines round-trip exactly', async () => {
    const body = new Uint8Array(256 * 4).map((_, i) => i % 256);
    const { handler, calls } = countingHandler(() => {
      const headers = new Headers({
        'cache-control': 'max-age=60',
        'content-type': 'application/octet-stream',
      });
      headers.append('x-list', 'a');
      headers.append('x-list', 'b');
      return new Response(body, { headers });
    });
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/bytes');
    const hit = await fetch('/bytes');
    expect(cacheStatus(hit)).toBe('cache; hit; ttl=60');
    expect(Buffer.from(await hit.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
    expect(hit.headers.get('x-list')).toBe('a, b');
    expect(calls).toHaveLength(1);
  });

  it('a 304 updates the variant read back from Redis', async () => {
    const { handler, calls } = countingHandler((req) =>
      req.headers.get('if-none-match') === '"r1"'
        ? new Response(null, {
            status: 304,
            headers: { etag: '"r1"', 'cache-control': 'max-age=60', 'x-seen': '2' },
          })
        : new Response('stored', { headers: { etag: '"r1"', 'cache-control': 'max-age=60', 'x-seen': '1' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/etag');
    now += 61_000;
    const revalidated = await fetch('/etag');
    expect(await revalidated.text()).toBe('stored');
    expect(revalidated.headers.get('x-seen')).toBe('2');
    const hit = await fetch('/etag');
    expect(cacheStatus(hit)).toMatch(/^cache; hit/);
    expect(hit.headers.get('x-seen')).toBe('2');
    expect(calls).toHaveLength(2);
  });

  it('a full response that may not be stored removes the variant it replaces', async () => {
    let storable = true;
    const { handler, calls } = countingHandler(
      (_, n) => new Response(`v${n}`, { headers: { 'cache-control': storable ? 'max-age=10' : 'no-store' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/gone');
    now += 11_000;
    storable = false;
    expect(await (await fetch('/gone')).text()).toBe('v2');
    // the stale v1 is gone: with the origin down, nothing stale may stand in
    const failing = fetchThrough(cache, () => {
      throw new Error('origin down');
    });
    await expect(failing.fetch('/gone')).rejects.toThrow('origin down');
    expect(calls).toHaveLength(2);
  });
});
