// Hostile responses and a hostile store: huge bodies (streamed through uncached, intact), broken headers,
// `Vary: *`, corrupt entries, a store that fails. Nothing crashes, nothing wrong is served.
import { request as httpRequest } from 'node:http';
import { type CacheError, CacheKey, CacheValue, faulty } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheMiddleware, createHttpCache } from '../src/index.js';
import { cacheStatus, countingHandler, fetchThrough, listen, memoryCache } from './helpers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** GET through node:http, the raw header lines kept. */
function rawGet(base: string, path: string): Promise<{ status: number; raw: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(`${base}${path}`, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('huge bodies', () => {
  it('the middleware streams a body over maxBodyBytes through, intact, and stores nothing', async () => {
    const cache = createHttpCache({ store: memoryBackend({ maxEntries: 100 }), maxBodyBytes: 64 * 1024 });
    const middleware = cacheMiddleware(cache);
    const payload = bytes(4 * 1024 * 1024, 7);
    let calls = 0;
    const server = await listen((req, res) =>
      middleware(req, res, () => {
        calls++;
        res.setHeader('Cache-Control', 'max-age=600');
        res.setHeader('Content-Type', 'application/octet-stream');
        for (let offset = 0; offset < payload.length; offset += 65_536)
          res.write(payload.subarray(offset, offset + 65_536));
        res.end();
      }),
    );
    closers.push(server.close, () => cache.close());
    for (let i = 0; i < 2; i++) {
      const res = await rawGet(server.base, '/big');
      expect(res.status).toBe(200);
      expect(res.body.equals(Buffer.from(payload))).toBe(true);
      const status = res.raw[res.raw.findIndex((h) => h.toLowerCase() === 'cache-status') + 1];
      expect(status).toBe('cache; fwd=uri-miss; fwd-status=200; detail=too-large');
    }
    expect(calls).toBe(2);
  });

  it('a handler still streaming when the limit is passed keeps its chunks in order', async () => {
    const cache = createHttpCache({ store: memoryBackend({ maxEntries: 100 }), maxBodyBytes: 64 * 1024 });
    const middleware = cacheMiddleware(cache);
    const payload = bytes(8 * 1024 * 1024, 11);
    const server = await listen((req, res) =>
      middleware(req, res, () => {
        res.setHeader('Cache-Control', 'max-age=600');
        let offset = 0;
        const next = (): void => {
          if (offset >= payload.length) {
            res.end();
            return;
          }
          // bursts of chunks: the cache is still sending one burst (under backpressure) when the next is written
          for (let i = 0; i < 8 && offset < payload.length; i++, offset += 48 * 1024) {
            res.write(payload.subarray(offset, offset + 48 * 1024));
          }
          setImmediate(next);
        };
        next();
      }),
    );
    closers.push(server.close, () => cache.close());
    const res = await rawGet(server.base, '/slow');
    expect(res.body.length).toBe(payload.length);
    expect(res.body.equals(Buffer.from(payload))).toBe(true);
  });

  it('the fetch wrapper passes a body over the limit through as a stream', async () => {
    const { cache } = memoryCache({ maxBodyBytes: 1024 });
    const payload = bytes(300_000, 3);
    const { handler, calls } = countingHandler(
      () => new Response(payload, { headers: { 'cache-control': 'max-age=60' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    for (let i = 0; i < 2; i++) {
      const res = await fetch('/big');
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(payload))).toBe(true);
      expect(cacheStatus(res)).toContain('detail=too-large');
    }
    expect(calls).toHaveLength(2);
  });

  it('a body within the limit is stored as bytes and served exactly', async () => {
    const { cache } = memoryCache({ maxBodyBytes: 1024 * 1024 });
    const payload = bytes(500_000, 9);
    const { handler, calls } = countingHandler(
      () => new Response(payload, { headers: { 'cache-control': 'max-age=60' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/ok');
    const hit = await fetch('/ok');
    expect(Buffer.from(await hit.arrayBuffer()).equals(Buffer.from(payload))).toBe(true);
    expect(calls).toHaveLength(1);
  });
});

describe('broken headers', () => {
  it('unparseable freshness information is never taken as freshness', async () => {
    const broken = [
      { 'cache-control': 'max-age=abc' },
      { 'cache-control': 'max-age=-60' },
      { 'cache-control': 'max-age=1.5e3' },
      { 'cache-control': '=, ,,"max-age=600' },
      { 'cache-control': 'max-age="60' },
      { expires: 'not a date' },
      { expires: '0' },
      { 'cache-control': 'max-age=600, max-age=1' },
    ];
    for (const headers of broken) {
      const { cache } = memoryCache();
      const { handler, calls } = countingHandler((_, n) => new Response(`r${n}`, { headers }));
      const { fetch } = fetchThrough(cache, handler);
      await fetch('/b');
      const second = await fetch('/b');
      expect(await second.text(), JSON.stringify(headers)).toBe('r2');
      expect(calls).toHaveLength(2);
    }
  });

  it('an Age it cannot parse is ignored; a huge Age makes the response stale', async () => {
    for (const [age, cached] of [
      ['abc', true],
      ['-5', true],
      ['99999999999', false],
    ] as const) {
      const { cache } = memoryCache();
      const { handler, calls } = countingHandler(
        () => new Response('x', { headers: { 'cache-control': 'max-age=600', age } }),
      );
      const { fetch } = fetchThrough(cache, handler);
      await fetch('/a');
      await fetch('/a');
      expect(calls.length, age).toBe(cached ? 1 : 2);
    }
  });

  it('a header field node refuses to send is dropped; the response still goes out', async () => {
    const cache = createHttpCache({ store: memoryBackend({ maxEntries: 100 }) });
    const middleware = cacheMiddleware(cache);
    const server = await listen((req, res) =>
      middleware(req, res, () => {
        res.setHeader('Cache-Control', 'max-age=60');
        res.setHeader('X-Broken', 'a\r\nInjected: yes');
        res.setHeader('X-Good', 'kept');
        res.end('body');
      }),
    );
    closers.push(server.close, () => cache.close());
    for (let i = 0; i < 2; i++) {
      const res = await rawGet(server.base, '/h');
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('body');
      const names = res.raw.filter((_, n) => n % 2 === 0).map((h) => h.toLowerCase());
      expect(names).toContain('x-good');
      expect(names).not.toContain('x-broken');
      expect(names).not.toContain('injected');
    }
  });

  it('Vary: * is never served from the cache', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler(
      (_, n) => new Response(`v${n}`, { headers: { 'cache-control': 'max-age=600', vary: '*' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/star');
    const second = await fetch('/star');
    expect(await second.text()).toBe('v2');
    expect(cacheStatus(second)).toContain('detail=vary-star');
    expect(calls).toHaveLength(2);
  });

  it('Vary naming a header the request lacks matches only requests that lack it too', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler(
      (_, n) =>
        new Response(`v${n}`, { headers: { 'cache-control': 'max-age=600', vary: 'X-Variant, , X-Other' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/vm');
    expect(await (await fetch('/vm')).text()).toBe('v1');
    expect(await (await fetch('/vm', { headers: { 'x-variant': 'b' } })).text()).toBe('v2');
    expect(calls).toHaveLength(2);
  });
});

describe('a hostile or failing store', () => {
  it('a corrupt entry is a miss, reported with CORRUPT_ENTRY, and replaced', async () => {
    const store = memoryBackend({ maxEntries: 100 });
    const errors: CacheError[] = [];
    const cache = createHttpCache({ store, onStoreError: (e) => errors.push(e) });
    const key = cache.key({ method: 'GET', url: new URL('http://app.test/c'), headers: { get: () => null } });
    await store.set(key, CacheValue.fromTtl({ v: 1, variants: [{ status: 'x' }] }, { ttlMs: 60_000 }));
    const { handler, calls } = countingHandler(
      () => new Response('fresh', { headers: { 'cache-control': 'max-age=60' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    expect(await (await fetch('/c')).text()).toBe('fresh');
    expect(errors.map((e) => e.code)).toContain('CORRUPT_ENTRY');
    expect(cacheStatus(await fetch('/c'))).toMatch(/hit/);
    expect(calls).toHaveLength(1);
    expect(key).toBeInstanceOf(CacheKey);
  });

  it('a store that fails on every call never fails a request', async () => {
    const broken = faulty(memoryBackend({ maxEntries: 100 })).inject({
      kind: 'fail',
      error: new Error('store down'),
    });
    const errors: CacheError[] = [];
    const cache = createHttpCache({ store: broken, onStoreError: (e) => errors.push(e) });
    const { handler, calls } = countingHandler(
      (_, n) => new Response(`r${n}`, { headers: { 'cache-control': 'max-age=60' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    expect(await (await fetch('/f')).text()).toBe('r1');
    expect(await (await fetch('/f')).text()).toBe('r2');
    expect((await fetch('/f', { method: 'DELETE' })).status).toBe(200);
    expect(calls).toHaveLength(3);
    expect(errors.length).toBeGreaterThan(0);
  });
});
