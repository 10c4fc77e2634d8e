// The policy layer: request/response predicates, key extractors, and the defaults that keep private answers out
// of a shared cache. Through cacheFetch over a memory backend; the handler counts how often it runs.
import { describe, expect, it } from 'vitest';
import {
  all,
  any,
  type CacheRequest,
  cacheFetch,
  createHttpCache,
  headerHas,
  keyHeaders,
  keyPath,
  keyPathParams,
  keyQuery,
  methodIs,
  not,
  nodeRequestHeaders,
  pathMatches,
  queryHas,
  responseHeaderHas,
  type StoredResource,
  statusIn,
} from '../src/index.js';
import { memoryBackend } from '@cache/memory';
import { cacheStatus, countingHandler, fetchThrough, memoryCache } from './helpers.js';

function request(path: string, headers: Record<string, string> = {}, method = 'GET'): CacheRequest {
  return { method, url: new URL(`http://app.test${path}`), headers: nodeRequestHeaders(headers) };
}

/** Waits (event-loop turns, a hang guard of 5 s) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5_000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(condition()).toBe(true);
}

const cacheable = (body = 'ok', headers: Record<string, string> = {}) =>
  new Response(body, { headers: { 'cache-control': 'max-age=60', ...headers } });

describe('predicates', () => {
  it('match on method, path pattern, query and headers, and combine', () => {
    expect(methodIs('get')(request('/'))).toBe(true);
    expect(methodIs('POST')(request('/'))).toBe(false);
    expect(pathMatches('/users/{id}')(request('/users/42'))).toBe(true);
    expect(pathMatches('/users/{id}')(request('/users/42/posts'))).toBe(false);
    expect(pathMatches('/static/*')(request('/static/a/b.css'))).toBe(true);
    expect(pathMatches(/^\/v\d+\//)(request('/v2/x'))).toBe(true);
    expect(queryHas('page')(request('/?page=2'))).toBe(true);
    expect(queryHas('page', '3')(request('/?page=2'))).toBe(false);
    expect(headerHas('x-tenant', /^acme/)(request('/', { 'x-tenant': 'acme-eu' }))).toBe(true);
    expect(headerHas('x-tenant')(request('/'))).toBe(false);
    const apiGets = all(methodIs('GET'), pathMatches('/api/*'), not(queryHas('nocache')));
    expect(apiGets(request('/api/a'))).toBe(true);
    expect(apiGets(request('/api/a?nocache=1'))).toBe(false);
    expect(any(pathMatches('/a'), pathMatches('/b'))(request('/b'))).toBe(true);
  });

  it('responseHeaderHas matches response header fields, case-insensitively by name', () => {
    const json = responseHeaderHas('content-type', /^application\/json/);
    expect(
      json({ status: 200, headers: [['Content-Type', 'application/json; charset=utf-8']] }, request('/')),
    ).toBe(true);
    expect(json({ status: 200, headers: [['Content-Type', 'text/html']] }, request('/'))).toBe(false);
    expect(responseHeaderHas('x-cacheable')({ status: 200, headers: [] }, request('/'))).toBe(false);
  });

  it('statusIn takes codes and inclusive ranges', () => {
    const ok = statusIn([200, 299], 404);
    expect(ok({ status: 204, headers: [] }, request('/'))).toBe(true);
    expect(ok({ status: 404, headers: [] }, request('/'))).toBe(true);
    expect(ok({ status: 500, headers: [] }, request('/'))).toBe(false);
  });

  it('a request the predicate rejects goes to the handler every time, marked bypass', async () => {
    const { cache } = memoryCache({ request: not(pathMatches('/admin/*')) });
    const { handler, calls } = countingHandler(() => cacheable());
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/admin/x');
    const second = await fetch('/admin/x');
    expect(calls).toHaveLength(2);
    expect(cacheStatus(second)).toBe('cache; fwd=bypass; fwd-status=200');
  });

  it('a response the predicate rejects is not stored', async () => {
    const { cache } = memoryCache({
      response: (res) => res.status === 200 && !res.headers.some(([n]) => n === 'x-no-cache'),
    });
    const { handler, calls } = countingHandler(() => cacheable('x', { 'x-no-cache': '1' }));
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/a');
    const second = await fetch('/a');
    expect(calls).toHaveLength(2);
    expect(cacheStatus(second)).toContain('detail=policy');
  });
});

describe('key extractors', () => {
  it('selected query parameters: other parameters share the stored response', async () => {
    const { cache } = memoryCache({ key: [keyPath(), keyQuery('page')] });
    const { handler, calls } = countingHandler((_, n) => cacheable(`body ${n}`));
    const { fetch } = fetchThrough(cache, handler);
    expect(await (await fetch('/list?page=1&utm_source=a')).text()).toBe('body 1');
    const shared = await fetch('/list?utm_source=b&page=1');
    expect(await shared.text()).toBe('body 1');
    expect(cacheStatus(shared)).toMatch(/^cache; hit; ttl=/);
    expect(await (await fetch('/list?page=2')).text()).toBe('body 2');
    expect(calls).toHaveLength(2);
  });

  it('the whole query by default: a different query is a different entry', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler((_, n) => cacheable(`body ${n}`));
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/list?a=1');
    await fetch('/list?a=2');
    expect(calls).toHaveLength(2);
  });

  it('path parameters and headers make the key', () => {
    const { cache } = memoryCache({
      key: [keyPathParams('/users/{id}/posts/{post}'), keyHeaders('x-tenant')],
    });
    const key = cache.key(request('/users/7/posts/9', { 'x-tenant': 'acme' }));
    expect(key.parts).toEqual([
      { name: 'param:id', value: '7' },
      { name: 'param:post', value: '9' },
      { name: 'header:x-tenant', value: 'acme' },
    ]);
    expect(key.prefix).toBe('http:');
    const other = cache.key(request('/users/7/posts/9', { 'x-tenant': 'globex' }));
    expect(other.canonical).not.toBe(key.canonical);
  });

  it('HEAD is answered from the stored GET', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler(() => cacheable('hello'));
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/h');
    const head = await fetch('/h', { method: 'HEAD' });
    expect(calls).toHaveLength(1);
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(cacheStatus(head)).toMatch(/hit/);
  });
});

describe('safe defaults', () => {
  it('never stores or serves from cache a request with Authorization', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler((req) =>
      cacheable(`for ${req.headers.get('authorization')}`, { 'cache-control': 'public, max-age=60' }),
    );
    const { fetch } = fetchThrough(cache, handler);
    const a = await fetch('/me', { headers: { authorization: 'Bearer alice' } });
    const b = await fetch('/me', { headers: { authorization: 'Bearer bob' } });
    expect(await a.text()).toBe('for Bearer alice');
    expect(await b.text()).toBe('for Bearer bob');
    expect(cacheStatus(b)).toBe('cache; fwd=bypass; fwd-status=200');
    // and an anonymous request never gets a response made for someone else
    const anonymous = await fetch('/me');
    expect(await anonymous.text()).toBe('for null');
    expect(calls).toHaveLength(3);
  });

  it('keys by host: a response made for one Host is never served for another', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler((req) =>
      cacheable(`<a href="//${new URL(req.url).host}/next">`),
    );
    const fetch = cacheFetch(cache, handler);
    await fetch(new Request('http://evil.test/page'));
    const real = await fetch(new Request('http://app.test/page'));
    expect(await real.text()).toBe('<a href="//app.test/next">');
    expect(calls).toHaveLength(2);
  });

  it('never stores a response that sets a cookie, unless told', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler((_, n) =>
      cacheable(`session ${n}`, { 'set-cookie': `sid=${n}` }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/login');
    const second = await fetch('/login');
    expect(second.headers.get('set-cookie')).toBe('sid=2');
    expect(cacheStatus(second)).toContain('detail=set-cookie');
    expect(calls).toHaveLength(2);

    const allowed = memoryCache({ allowSetCookie: true });
    const told = fetchThrough(allowed.cache, handler);
    await told.fetch('/login');
    const replay = await told.fetch('/login');
    expect(cacheStatus(replay)).toMatch(/hit/);
  });

  it('never stores private or no-store responses', async () => {
    for (const cc of ['private, max-age=60', 'no-store', 'max-age=60, private="x"']) {
      const { cache } = memoryCache();
      const { handler, calls } = countingHandler(
        (_, n) => new Response(`r${n}`, { headers: { 'cache-control': cc } }),
      );
      const { fetch } = fetchThrough(cache, handler);
      await fetch('/p');
      const second = await fetch('/p');
      expect(await second.text()).toBe('r2');
      expect(calls).toHaveLength(2);
    }
  });

  it('stores 2xx only by default (an error page is not kept)', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler(
      () => new Response('missing', { status: 404, headers: { 'cache-control': 'max-age=60' } }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/nope');
    await fetch('/nope');
    expect(calls).toHaveLength(2);
  });

  it('only GET and HEAD are served from the cache; an unsafe method invalidates the URL', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler((req, n) => cacheable(`${req.method} ${n}`));
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/doc');
    expect(cacheStatus(await fetch('/doc'))).toMatch(/hit/);
    const post = await fetch('/doc', { method: 'POST', body: 'x' });
    expect(cacheStatus(post)).toBe('cache; fwd=method; fwd-status=200');
    const after = await fetch('/doc');
    expect(await after.text()).toBe('GET 3');
    expect(cacheStatus(after)).toContain('fwd=uri-miss');
    expect(calls.map((c) => c.method)).toEqual(['GET', 'POST', 'GET']);
  });
});

describe('freshness', () => {
  it('the application can own the freshness: a response without cache headers is kept for ttlMs', async () => {
    const clock = memoryCache({ freshness: { ttlMs: 10_000 } });
    const { handler, calls } = countingHandler((_, n) => new Response(`v${n}`));
    const { fetch } = fetchThrough(clock.cache, handler);
    await fetch('/f');
    clock.advance(9_000);
    expect(await (await fetch('/f')).text()).toBe('v1');
    clock.advance(2_000);
    expect(await (await fetch('/f')).text()).toBe('v2');
    expect(calls).toHaveLength(2);
  });

  it('Age counts the time the response spent in the cache', async () => {
    const clock = memoryCache();
    const { handler } = countingHandler(() => cacheable('a'));
    const { fetch } = fetchThrough(clock.cache, handler);
    await fetch('/age');
    clock.advance(12_500);
    const hit = await fetch('/age');
    expect(hit.headers.get('age')).toBe('12');
    expect(cacheStatus(hit)).toBe('cache; hit; ttl=47');
  });

  it('revalidates a stale response with its ETag and keeps the stored body on 304', async () => {
    const clock = memoryCache();
    const { handler, calls } = countingHandler((req) =>
      req.headers.get('if-none-match') === '"v1"'
        ? new Response(null, {
            status: 304,
            headers: { etag: '"v1"', 'cache-control': 'max-age=60', 'x-fresh': 'yes' },
          })
        : cacheable('body v1', { etag: '"v1"' }),
    );
    const { fetch } = fetchThrough(clock.cache, handler);
    await fetch('/e');
    clock.advance(61_000);
    const revalidated = await fetch('/e');
    expect(revalidated.status).toBe(200);
    expect(await revalidated.text()).toBe('body v1');
    expect(revalidated.headers.get('x-fresh')).toBe('yes');
    expect(cacheStatus(revalidated)).toBe('cache; fwd=stale; fwd-status=304; ttl=60; stored');
    expect(calls[1]?.headers.get('if-none-match')).toBe('"v1"');
    expect(cacheStatus(await fetch('/e'))).toMatch(/hit/);
    expect(calls).toHaveLength(2);
  });

  it('stores one response per Vary value', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler((req) =>
      cacheable(`lang ${req.headers.get('accept-language')}`, { vary: 'Accept-Language' }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/v', { headers: { 'accept-language': 'en' } });
    const fr = await fetch('/v', { headers: { 'accept-language': 'fr' } });
    expect(cacheStatus(fr)).toContain('fwd=vary-miss');
    expect(await (await fetch('/v', { headers: { 'accept-language': 'en' } })).text()).toBe('lang en');
    expect(await (await fetch('/v', { headers: { 'accept-language': 'fr' } })).text()).toBe('lang fr');
    expect(calls).toHaveLength(2);
  });
  it('Vary: Cookie selects by cookie, and the store keeps a digest of it, never the cookie itself', async () => {
    const store = memoryBackend({ maxEntries: 100 });
    const cache = createHttpCache({ store });
    const { handler, calls } = countingHandler((req) =>
      cacheable(`for ${req.headers.get('cookie')}`, { vary: 'Cookie' }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/c', { headers: { cookie: 'session=alice-secret' } });
    await fetch('/c', { headers: { cookie: 'session=bob-secret' } });
    const alice = await fetch('/c', { headers: { cookie: 'session=alice-secret' } });
    expect(await alice.text()).toBe('for session=alice-secret');
    expect(cacheStatus(alice)).toMatch(/hit/);
    expect(calls).toHaveLength(2);
    const key = cache.key({
      method: 'GET',
      url: new URL('http://app.test/c'),
      headers: nodeRequestHeaders({}),
    });
    const entry = (await store.get<StoredResource>(key))?.data;
    expect(entry?.variants).toHaveLength(2);
    expect(JSON.stringify(entry?.variants.map((v) => v.vary))).not.toContain('secret');
  });

  it('a variant in the language a request prefers most answers it, whatever its other languages', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler(() =>
      cacheable('Hallo', { vary: 'Accept-Language', 'content-language': 'de' }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/l', { headers: { 'accept-language': 'de, en;q=0.5' } });
    expect(cacheStatus(await fetch('/l', { headers: { 'accept-language': 'fr;q=0.5, de;q=1.0' } }))).toMatch(
      /hit/,
    );
    // a tie, or another language first: the origin decides
    expect(cacheStatus(await fetch('/l', { headers: { 'accept-language': 'fr, de' } }))).toContain(
      'fwd=vary-miss',
    );
    expect(calls).toHaveLength(2);
  });
});

describe('stale policies and collapsing', () => {
  it('stale-while-revalidate: the stale response at once, one background refresh', async () => {
    const clock = memoryCache();
    const { handler, calls } = countingHandler(
      (_, n) =>
        new Response(`v${n}`, { headers: { 'cache-control': 'max-age=10, stale-while-revalidate=60' } }),
    );
    const through = fetchThrough(clock.cache, handler);
    await through.fetch('/s');
    clock.advance(20_000);
    const stale = await through.fetch('/s');
    expect(await stale.text()).toBe('v1');
    expect(cacheStatus(stale)).toBe('cache; hit; ttl=-10; detail=stale-while-revalidate');
    await through.settled();
    expect(calls).toHaveLength(2);
    expect(await (await through.fetch('/s')).text()).toBe('v2');
  });

  it("stalePolicy 'inline' waits for the revalidation; 'return' serves stale without one", async () => {
    const headers = { 'cache-control': 'max-age=10, stale-while-revalidate=60' };
    const inline = memoryCache({ stalePolicy: 'inline' });
    const a = countingHandler((_, n) => new Response(`v${n}`, { headers }));
    const throughInline = fetchThrough(inline.cache, a.handler);
    await throughInline.fetch('/i');
    inline.advance(20_000);
    const waited = await throughInline.fetch('/i');
    expect(await waited.text()).toBe('v2');
    expect(cacheStatus(waited)).toBe('cache; fwd=stale; fwd-status=200; ttl=10; stored');

    const ret = memoryCache({ stalePolicy: 'return' });
    const b = countingHandler((_, n) => new Response(`v${n}`, { headers }));
    const throughReturn = fetchThrough(ret.cache, b.handler);
    await throughReturn.fetch('/r');
    ret.advance(20_000);
    const served = await throughReturn.fetch('/r');
    expect(await served.text()).toBe('v1');
    expect(cacheStatus(served)).toBe('cache; hit; ttl=-10; detail=stale-return');
    await throughReturn.settled();
    expect(b.calls).toHaveLength(1);
    ret.advance(60_000);
    expect(await (await throughReturn.fetch('/r')).text()).toBe('v2');
  });

  it('fail-safe: a stale response stands in for a handler that throws', async () => {
    const clock = memoryCache();
    let failing = false;
    const { handler } = countingHandler(() => {
      if (failing) throw new Error('database down');
      return cacheable('good');
    });
    const { fetch } = fetchThrough(clock.cache, handler);
    await fetch('/fs');
    clock.advance(120_000);
    failing = true;
    const served = await fetch('/fs');
    expect(await served.text()).toBe('good');
    expect(cacheStatus(served)).toBe('cache; fwd=stale; ttl=-60; detail=fail-safe');
  });

  it('fail-safe is refused when the response says must-revalidate', async () => {
    const clock = memoryCache();
    let failing = false;
    const { handler } = countingHandler(() => {
      if (failing) throw new Error('database down');
      return cacheable('good', { 'cache-control': 'max-age=60, must-revalidate' });
    });
    const { fetch } = fetchThrough(clock.cache, handler);
    await fetch('/mr');
    clock.advance(120_000);
    failing = true;
    await expect(fetch('/mr')).rejects.toThrow('database down');
  });

  it('collapses concurrent requests for one key into one handler run', async () => {
    const { cache } = memoryCache();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { handler, calls } = countingHandler(async () => {
      await gate;
      return cacheable('once');
    });
    const { fetch } = fetchThrough(cache, handler);
    const responses = Array.from({ length: 10 }, () => fetch('/c'));
    await until(() => calls.length === 1);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const all = await Promise.all(responses);
    expect(calls).toHaveLength(1);
    expect(await Promise.all(all.map((r) => r.text()))).toEqual(Array(10).fill('once'));
    expect(all.filter((r) => cacheStatus(r).includes('collapsed'))).toHaveLength(9);
  });

  it('requests collapsed onto a response that may not be stored run the handler themselves', async () => {
    const { cache } = memoryCache();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { handler, calls } = countingHandler(async (_, n) => {
      await gate;
      return new Response(`private ${n}`, { headers: { 'cache-control': 'private' } });
    });
    const { fetch } = fetchThrough(cache, handler);
    const responses = Array.from({ length: 3 }, () => fetch('/pc'));
    await until(() => calls.length === 1);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const texts = await Promise.all((await Promise.all(responses)).map((r) => r.text()));
    expect(calls).toHaveLength(3);
    expect(new Set(texts).size).toBe(3);
  });
});

describe('stats', () => {
  it('counts what the cache answered', async () => {
    const clock = memoryCache();
    let mode: 'ok' | 'throw' = 'ok';
    const { handler } = countingHandler((req) => {
      if (mode === 'throw') throw new Error('down');
      if (req.headers.get('if-none-match') === '"s"') {
        return new Response(null, { status: 304, headers: { etag: '"s"', 'cache-control': 'max-age=10' } });
      }
      return new Response('s', { headers: { etag: '"s"', 'cache-control': 'max-age=10' } });
    });
    const { fetch } = fetchThrough(clock.cache, handler);
    await fetch('/s'); // miss, stored
    await fetch('/s'); // hit
    await fetch('/s', { headers: { authorization: 'x' } }); // bypassed
    clock.advance(11_000);
    await fetch('/s'); // revalidated: 304, stored
    clock.advance(11_000);
    mode = 'throw';
    await fetch('/s'); // fail-safe
    await expect(fetch('/other')).rejects.toThrow('down'); // origin error
    expect(clock.cache.stats()).toEqual({
      hits: 1,
      staleHits: 0,
      collapsed: 0,
      misses: 1,
      revalidations: 1,
      notModified: 1,
      stored: 2,
      failSafe: 1,
      bypassed: 1,
      originErrors: 1,
    });
  });
});

describe('ranges', () => {
  const whole = new Uint8Array(1000).map((_, i) => i % 251);
  const rangeHandler = () =>
    countingHandler((req) => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get('range') ?? '');
      if (range === null) return new Response(whole, { headers: { 'cache-control': 'max-age=60' } });
      const [first, last] = [Number(range[1]), Number(range[2])];
      return new Response(whole.subarray(first, last + 1), {
        status: 206,
        headers: { 'cache-control': 'max-age=60', 'content-range': `bytes ${first}-${last}/1000` },
      });
    });

  it('a stored part answers the ranges it covers, and never a request for the whole', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = rangeHandler();
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/r', { headers: { range: 'bytes=100-199' } });
    const inside = await fetch('/r', { headers: { range: 'bytes=110-119' } });
    expect(inside.status).toBe(206);
    expect(inside.headers.get('content-range')).toBe('bytes 110-119/1000');
    expect(Buffer.from(await inside.arrayBuffer()).equals(Buffer.from(whole.subarray(110, 120)))).toBe(true);
    expect(cacheStatus(inside)).toMatch(/hit/);
    const outside = await fetch('/r', { headers: { range: 'bytes=150-250' } });
    expect(cacheStatus(outside)).not.toMatch(/hit/);
    const full = await fetch('/r');
    expect(full.status).toBe(200);
    expect((await full.arrayBuffer()).byteLength).toBe(1000);
    expect(calls.map((c) => c.headers.get('range'))).toEqual(['bytes=100-199', 'bytes=150-250', null]);
    // the complete response now answers any range
    const fromWhole = await fetch('/r', { headers: { range: 'bytes=-10' } });
    expect(fromWhole.headers.get('content-range')).toBe('bytes 990-999/1000');
    expect(calls).toHaveLength(3);
  });

  it('a 206 to a request that asked for no range is not stored', async () => {
    const { cache } = memoryCache();
    const { handler, calls } = countingHandler(
      () =>
        new Response('part', {
          status: 206,
          headers: { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-3/10' },
        }),
    );
    const { fetch } = fetchThrough(cache, handler);
    await fetch('/odd');
    await fetch('/odd');
    expect(calls).toHaveLength(2);
  });
});
