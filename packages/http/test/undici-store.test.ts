// The undici CacheStore over a memory backend, driven by undici's own cache interceptor against a node:http
// origin: what a user of `fetch` through the interceptor relies on (hits, Vary, revalidation, invalidation,
// the size limit), plus the store contract itself.
import { CacheError, CacheKey } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import type { Dispatcher } from 'undici';
import { interceptors } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type UndiciCacheStore, type UndiciCacheValue, undiciCacheStore } from '../src/undici/index.js';
import { binaryBody, cachingAgent, fetchVia, type Origin, startOrigin } from './undici-helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(
  handler: Parameters<typeof startOrigin>[0],
  options: { maxBodyBytes?: number; maxVariants?: number } = {},
): Promise<{ origin: Origin; store: UndiciCacheStore; agent: Dispatcher; errors: CacheError[] }> {
  const origin = await startOrigin(handler);
  const errors: CacheError[] = [];
  const backend = memoryBackend({ maxEntries: 100 });
  const store = undiciCacheStore({ backend, onError: (e) => errors.push(e), ...options });
  const agent = cachingAgent(store);
  cleanup.push(
    () => origin.close(),
    () => agent.close(),
  );
  return { origin, store, agent, errors };
}

describe('undiciCacheStore over memory, through the interceptor', () => {
  it('serves a second GET from the store: same status, headers and binary body, with an Age', async () => {
    const body = binaryBody(4096);
    const { origin, store, agent, errors } = await setup((_req, res) => {
      res.writeHead(200, {
        'cache-control': 'max-age=60',
        'content-type': 'application/octet-stream',
        'x-tag': 'a',
      });
      res.end(body);
    });
    const first = await fetchVia(agent, `${origin.url}/blob`);
    await store.flush();
    const second = await fetchVia(agent, `${origin.url}/blob`);
    expect(origin.count()).toBe(1);
    expect(second.status).toBe(200);
    expect(second.body.equals(body)).toBe(true);
    expect(second.headers['x-tag']).toBe('a');
    expect(second.headers.age).toBeDefined();
    expect(first.headers.age).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('keeps one variant per value of the Vary header under one URL entry', async () => {
    const { origin, store, agent } = await setup((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'accept-language' });
      res.end(`hello in ${req.headers['accept-language'] ?? 'none'}`);
    });
    const url = `${origin.url}/greeting`;
    const texts: string[] = [];
    for (const lang of ['en', 'fr', 'en', 'fr', undefined, undefined]) {
      const res = await fetchVia(
        agent,
        url,
        lang === undefined ? {} : { headers: { 'accept-language': lang } },
      );
      texts.push(res.body.toString());
      await store.flush();
    }
    expect(texts).toEqual([
      'hello in en',
      'hello in fr',
      'hello in en',
      'hello in fr',
      'hello in none',
      'hello in none',
    ]);
    expect(origin.count()).toBe(3);
    const memory = store.backend as ReturnType<typeof memoryBackend>;
    expect(memory.size).toBe(1);
  });

  it('revalidates a no-cache response with its ETag and serves the stored body on 304', async () => {
    const { origin, store, agent } = await setup((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'no-cache' });
      res.end('version one');
    });
    const url = `${origin.url}/doc`;
    expect((await fetchVia(agent, url)).body.toString()).toBe('version one');
    await store.flush();
    const again = await fetchVia(agent, url);
    await store.flush();
    expect(again.status).toBe(200);
    expect(again.body.toString()).toBe('version one');
    expect(origin.received.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"']);
    // The refreshed entry is stored again: a third request revalidates the same way.
    expect((await fetchVia(agent, url)).body.toString()).toBe('version one');
    expect(origin.received.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"', '"v1"']);
  });

  it('drops every stored variant of a URL after a successful POST to it', async () => {
    let version = 1;
    const { origin, store, agent } = await setup((req, res) => {
      if (req.method === 'POST') version++;
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'accept' });
      res.end(`v${version}`);
    });
    const url = `${origin.url}/item`;
    await fetchVia(agent, url, { headers: { accept: 'text/plain' } });
    await fetchVia(agent, url, { headers: { accept: 'text/html' } });
    await store.flush();
    expect((await fetchVia(agent, url, { headers: { accept: 'text/plain' } })).body.toString()).toBe('v1');
    expect(origin.count('GET')).toBe(2);
    await fetchVia(agent, url, { method: 'POST' });
    expect((await fetchVia(agent, url, { headers: { accept: 'text/plain' } })).body.toString()).toBe('v2');
    expect((await fetchVia(agent, url, { headers: { accept: 'text/html' } })).body.toString()).toBe('v2');
    expect(origin.count('GET')).toBe(4);
  });

  it('passes a body over maxBodyBytes through whole and does not store it; a smaller one is stored', async () => {
    const { origin, store, agent, errors } = await setup(
      (req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        res.end(req.url === '/big' ? binaryBody(10_001) : binaryBody(10_000));
      },
      { maxBodyBytes: 10_000 },
    );
    for (let i = 0; i < 2; i++) {
      const big = await fetchVia(agent, `${origin.url}/big`);
      expect(big.body.equals(binaryBody(10_001))).toBe(true);
      const small = await fetchVia(agent, `${origin.url}/small`);
      expect(small.body.equals(binaryBody(10_000))).toBe(true);
      await store.flush();
    }
    expect(origin.received.map((r) => r.url)).toEqual(['/big', '/small', '/big']);
    expect(errors).toEqual([]);
  });

  it('never stores a response with Vary: *', async () => {
    const { origin, store, agent } = await setup((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: '*' });
      res.end('varies on everything');
    });
    for (let i = 0; i < 2; i++) {
      expect((await fetchVia(agent, `${origin.url}/star`)).body.toString()).toBe('varies on everything');
      await store.flush();
    }
    expect(origin.count()).toBe(2);
    expect((store.backend as ReturnType<typeof memoryBackend>).size).toBe(0);
  });

  it('keeps at most maxVariants variants per URL, dropping the oldest', async () => {
    const { origin, store, agent } = await setup(
      (req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'x-v' });
        res.end(String(req.headers['x-v']));
      },
      { maxVariants: 2 },
    );
    const get = (v: string) => fetchVia(agent, `${origin.url}/v`, { headers: { 'x-v': v } });
    for (const v of ['a', 'b', 'c']) {
      await get(v);
      await store.flush();
    }
    expect(origin.count()).toBe(3);
    await get('c');
    await get('b');
    expect(origin.count()).toBe(3);
    await get('a');
    expect(origin.count()).toBe(4);
  });
});

describe('undiciCacheStore contract', () => {
  const key = { origin: 'http://example.test', method: 'GET', path: '/a?b=c', headers: {} };
  const value: UndiciCacheValue = {
    statusCode: 200,
    statusMessage: 'OK',
    headers: { 'content-type': 'text/plain' },
    cacheControlDirectives: { 'max-age': 60 },
    cachedAt: Date.now(),
    staleAt: Date.now() + 60_000,
    deleteAt: Date.now() + 60_000,
  };

  async function write(store: UndiciCacheStore, body: Buffer, k = key, v = value): Promise<void> {
    const stream = store.createWriteStream(k, v);
    if (stream === undefined) throw new Error('no stream');
    await new Promise<void>((resolve, reject) =>
      stream.end(body, (error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await store.flush();
  }

  it('is accepted by the interceptor and answers a memory hit without a promise', async () => {
    const store = undiciCacheStore({ backend: memoryBackend({ maxEntries: 10 }) });
    expect(() => interceptors.cache({ store })).not.toThrow();
    expect(store.get(key)).toBeUndefined();
    await write(store, Buffer.from('abc'));
    const hit = store.get(key);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toMatchObject({ statusCode: 200, statusMessage: 'OK', headers: value.headers });
    expect(Buffer.concat((hit as { body: Buffer[] }).body).toString()).toBe('abc');
    expect(store.get({ ...key, method: 'HEAD' })).toBeUndefined();
    store.delete({ ...key, method: 'POST' });
    expect(store.get(key)).toBeUndefined();
  });

  it('never hands out a variant past its delete instant', async () => {
    let now = 1_000_000;
    const store = undiciCacheStore({ backend: memoryBackend({ maxEntries: 10 }), now: () => now });
    await write(store, Buffer.from('x'), key, {
      ...value,
      cachedAt: now,
      staleAt: now + 10,
      deleteAt: Date.now() + 60_000,
    });
    expect(store.get(key)).toBeDefined();
    now = Date.now() + 60_000;
    expect(store.get(key)).toBeUndefined();
  });

  it('answers from a response being written, and a delete meanwhile cancels the write (nothing comes back)', async () => {
    const memory = memoryBackend({ maxEntries: 10 });
    let release: () => void = () => undefined;
    let holdReads = false;
    // The memory backend, with reads held back on demand: the window a Redis round trip leaves open.
    const slow = {
      label: 'slow',
      get: <T>(k: CacheKey) => {
        if (!holdReads) return memory.get<T>(k);
        return new Promise<void>((resolve) => {
          release = resolve;
        }).then(() => memory.get<T>(k));
      },
      set: <T>(k: CacheKey, v: import('@cache/core').CacheValue<T>) => memory.set(k, v),
      delete: (k: CacheKey) => memory.delete(k),
    };
    const store = undiciCacheStore({ backend: slow });
    const en = { ...key, headers: { 'accept-language': 'en' } };
    const fr = { ...key, headers: { 'accept-language': 'fr' } };
    await write(store, Buffer.from('old en'), en, { ...value, vary: { 'accept-language': 'en' } });
    holdReads = true;
    const stream = store.createWriteStream(fr, { ...value, vary: { 'accept-language': 'fr' } });
    stream?.end(Buffer.from('new fr'));
    await new Promise((resolve) => setImmediate(resolve));
    // Served while its write waits for the read of the entry, as soon as its body ended.
    expect(Buffer.concat((store.get(fr) as { body: Buffer[] }).body).toString()).toBe('new fr');
    store.delete({ ...key, method: 'POST' });
    holdReads = false;
    expect(store.get(fr)).toBeUndefined();
    release();
    await store.flush();
    expect(store.get(en)).toBeUndefined();
    expect(store.get(fr)).toBeUndefined();
  });

  it('rejects bad options with INVALID_OPTIONS', () => {
    const backend = memoryBackend({ maxEntries: 10 });
    for (const options of [
      {},
      { backend: {} },
      { backend, maxBodyBytes: 0 },
      { backend, maxVariants: 1.5 },
      { backend, keyPrefix: 3 },
      { backend, onError: 'log' },
    ]) {
      expect(() => undiciCacheStore(options as never)).toThrow(
        expect.objectContaining({ name: 'CacheError', code: 'INVALID_OPTIONS' }),
      );
    }
  });

  it('turns a failing backend into a reported miss and a reported skipped write, never a rejection', async () => {
    const errors: CacheError[] = [];
    const broken = {
      label: 'broken',
      get: () => Promise.reject(new CacheError('CONNECTION', 'down')),
      set: () => Promise.reject(new CacheError('CONNECTION', 'down')),
      delete: () => {
        throw new CacheError('CONNECTION', 'down');
      },
    };
    const store = undiciCacheStore({ backend: broken, onError: (e) => errors.push(e) });
    expect(await store.get(key)).toBeUndefined();
    await write(store, Buffer.from('x'));
    expect(store.delete(key)).toBeUndefined();
    expect(errors.map((e) => [e.code, e.operation])).toEqual([
      ['CONNECTION', 'get'],
      ['CONNECTION', 'get'], // the write reads the entry first; it still tries to write when that fails
      ['CONNECTION', 'set'],
      ['CONNECTION', 'delete'],
    ]);
    // The URL in the report, never its query string (tokens travel there).
    expect(errors.map((e) => e.key)).toEqual(Array(4).fill('http://example.test/a?…'));
  });

  it('without onError, reports a failing backend as one process warning per error code', async () => {
    const warnings: Error[] = [];
    const listener = (warning: Error) => warnings.push(warning);
    process.on('warning', listener);
    try {
      const down = {
        label: 'down',
        get: () => Promise.reject(new CacheError('CONNECTION', 'down')),
        set: () => Promise.reject(new CacheError('TIMEOUT', 'slow')),
        delete: () => Promise.reject(new CacheError('CONNECTION', 'down')),
      };
      const store = undiciCacheStore({ backend: down });
      for (let i = 0; i < 3; i++) {
        expect(await store.get(key)).toBeUndefined();
        await store.delete(key);
      }
      await write(store, Buffer.from('x'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => [w.name, (w as Error & { code?: string }).code])).toEqual([
        ['CacheWarning', 'CONNECTION'],
        ['CacheWarning', 'TIMEOUT'],
      ]);
    } finally {
      process.off('warning', listener);
    }
  });

  it('stores entries under its keyPrefix, one key per URL', async () => {
    const backend = memoryBackend({ maxEntries: 10 });
    const store = undiciCacheStore({ backend, keyPrefix: 'api' });
    await write(store, Buffer.from('x'));
    const stored = backend.get<unknown[]>(
      CacheKey.from(
        [
          ['origin', key.origin],
          ['path', key.path],
        ],
        { prefix: 'api', version: 1 },
      ),
    );
    expect(stored?.data).toHaveLength(1);
  });
});
