// The Connect/Express-style middleware on node:http: what the handler writes is captured, stored and replayed
// exactly (status, header names as written, repeated fields, bytes); Cache-Status on every response; conditional
// clients; stale-while-revalidate runs the handler after the client was answered.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheMiddleware, createHttpCache, type HttpCacheOptions } from '../src/index.js';
import { listen } from './helpers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Raw {
  status: number;
  raw: string[];
  body: string;
  header(name: string): string | undefined;
}

function send(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          raw: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
          header: (name) => {
            const i = res.rawHeaders.findIndex((h, n) => n % 2 === 0 && h.toLowerCase() === name);
            return i < 0 ? undefined : res.rawHeaders[i + 1];
          },
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

async function app(
  handler: (req: IncomingMessage, res: ServerResponse, call: number) => void,
  options: Partial<HttpCacheOptions> = {},
) {
  let now = Date.now();
  const cache = createHttpCache({ store: memoryBackend({ maxEntries: 100 }), now: () => now, ...options });
  const middleware = cacheMiddleware(cache);
  let calls = 0;
  const server = await listen((req, res) => middleware(req, res, () => handler(req, res, ++calls)));
  closers.push(server.close, () => cache.close());
  return {
    base: server.base,
    calls: () => calls,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('cacheMiddleware', () => {
  it('replays the handler response exactly: status, header case and order, repeated fields, body', async () => {
    const a = await app(
      (_req, res) => {
        res.statusCode = 203;
        res.statusMessage = 'Non-Authoritative';
        res.setHeader('X-Mixed-Case', 'one');
        res.setHeader('Cache-Control', 'max-age=60');
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.writeHead(203, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.write('hel');
        res.end('lo');
      },
      { allowSetCookie: true, response: () => true },
    );
    const miss = await send(a.base, '/x');
    const hit = await send(a.base, '/x');
    expect(a.calls()).toBe(1);
    for (const r of [miss, hit]) {
      expect(r.status).toBe(203);
      expect(r.body).toBe('hello');
      expect(r.raw).toContain('X-Mixed-Case');
      expect(r.raw.filter((h) => h === 'Set-Cookie')).toHaveLength(2);
      expect(r.header('content-type')).toBe('text/plain; charset=utf-8');
    }
    expect(miss.header('cache-status')).toBe('cache; fwd=uri-miss; fwd-status=203; ttl=60; stored');
    expect(hit.header('cache-status')).toBe('cache; hit; ttl=60');
    expect(hit.header('age')).toBe('0');
  });

  it('answers a conditional client with 304 from a stored response', async () => {
    const a = await app((_req, res) => {
      res.setHeader('Cache-Control', 'max-age=60');
      res.setHeader('ETag', '"abc"');
      res.end('body');
    });
    await send(a.base, '/c');
    const notModified = await send(a.base, '/c', { 'if-none-match': 'W/"abc"' });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.header('etag')).toBe('"abc"');
    expect(a.calls()).toBe(1);
  });

  it('revalidates through the handler with the validators in req.headers (304 from the handler)', async () => {
    const seen: Array<string | undefined> = [];
    const a = await app((req, res) => {
      const inm = req.headers['if-none-match'];
      seen.push(inm as string | undefined);
      res.setHeader('Cache-Control', 'max-age=10');
      res.setHeader('ETag', '"v1"');
      if (inm === '"v1"') {
        res.statusCode = 304;
        res.end();
      } else res.end('the body');
    });
    await send(a.base, '/r');
    a.advance(11_000);
    const revalidated = await send(a.base, '/r');
    expect(revalidated.status).toBe(200);
    expect(revalidated.body).toBe('the body');
    expect(revalidated.header('cache-status')).toBe('cache; fwd=stale; fwd-status=304; ttl=10; stored');
    expect(seen).toEqual([undefined, '"v1"']);
  });

  it('stale-while-revalidate: the client gets the stale response, the handler runs afterwards', async () => {
    const a = await app((_req, res, call) => {
      res.setHeader('Cache-Control', 'max-age=10, stale-while-revalidate=100');
      res.end(`v${call}`);
    });
    await send(a.base, '/swr');
    a.advance(30_000);
    const stale = await send(a.base, '/swr');
    expect(stale.body).toBe('v1');
    expect(stale.header('cache-status')).toBe('cache; hit; ttl=-20; detail=stale-while-revalidate');
    // the background run stores v2; the next request (no clock change) is a fresh hit on it
    let next = await send(a.base, '/swr');
    for (let i = 0; i < 200 && next.body !== 'v2'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      next = await send(a.base, '/swr');
    }
    expect(next.body).toBe('v2');
    // one revalidation at a time per key; a request that read the store just before the refresh was written
    // may start one more, so the count is checked as a lower bound
    expect(a.calls()).toBeGreaterThanOrEqual(2);
  });

  it('passes requests it does not cache through to the handler untouched', async () => {
    const a = await app((req, res) => {
      res.setHeader('Cache-Control', 'max-age=60');
      res.end(`${req.method} ${req.headers.authorization ?? ''}`);
    });
    const auth = await send(a.base, '/p', { authorization: 'Basic eDp5' });
    expect(auth.body).toBe('GET Basic eDp5');
    expect(auth.header('cache-status')).toBe('cache; fwd=bypass; fwd-status=200');
    const del = await send(a.base, '/p', {}, 'DELETE');
    expect(del.body).toBe('DELETE ');
    expect(del.header('cache-status')).toBe('cache; fwd=method; fwd-status=200');
  });

  it('a handler that throws: 502 with Cache-Status when nothing is stored, the stale response when one is', async () => {
    const a = await app((_req, res, call) => {
      if (call === 1 || call === 3) throw new Error('handler bug');
      res.setHeader('Cache-Control', 'max-age=10');
      res.end('good');
    });
    const failed = await send(a.base, '/t');
    expect(failed.status).toBe(502);
    expect(failed.header('cache-status')).toBe('cache; detail=origin-error');
    expect((await send(a.base, '/t')).body).toBe('good');
    a.advance(20_000);
    const served = await send(a.base, '/t');
    expect(served.body).toBe('good');
    expect(served.header('cache-status')).toBe('cache; fwd=stale; ttl=-10; detail=fail-safe');
  });

  it('a handler error answered by the chain (500) falls back to the stale response (fail-safe)', async () => {
    const a = await app((_req, res, call) => {
      if (call > 1) {
        res.statusCode = 500;
        res.end('boom');
        return;
      }
      res.setHeader('Cache-Control', 'max-age=10');
      res.end('good');
    });
    await send(a.base, '/e');
    a.advance(20_000);
    const served = await send(a.base, '/e');
    expect(served.status).toBe(200);
    expect(served.body).toBe('good');
    expect(served.header('cache-status')).toBe('cache; fwd=stale; fwd-status=500; ttl=-10; detail=fail-safe');
  });
  it('keys: other hosts, paths and queries never share a response, also past the keys the cache keeps', async () => {
    const a = await app(
      (req, res) => {
        res.setHeader('Cache-Control', 'max-age=60');
        res.end(`${req.headers.host} ${req.url}`);
      },
      { store: memoryBackend({ maxEntries: 2000 }) },
    );
    const first = await send(a.base, '/k?a=1', { host: 'one.example' });
    expect(first.body).toBe('one.example /k?a=1');
    expect((await send(a.base, '/k?a=1', { host: 'two.example' })).body).toBe('two.example /k?a=1');
    expect((await send(a.base, '/k?a=2', { host: 'one.example' })).body).toBe('one.example /k?a=2');
    expect((await send(a.base, '/k/', { host: 'one.example' })).body).toBe('one.example /k/');
    // the host is case-insensitive: the same key
    const again = await send(a.base, '/k?a=1', { host: 'ONE.example' });
    expect(again.body).toBe('one.example /k?a=1');
    expect(again.header('cache-status')).toBe('cache; hit; ttl=60');
    expect(a.calls()).toBe(4);
    for (let i = 0; i < 1100; i++) await send(a.base, `/many/${i}`);
    expect(a.calls()).toBe(1104);
    for (const path of ['/many/0', '/many/1099']) {
      const hit = await send(a.base, path);
      expect(hit.body).toMatch(new RegExp(` ${path}$`));
      expect(hit.header('cache-status')).toBe('cache; hit; ttl=60');
    }
    expect((await send(a.base, '/k?a=1', { host: 'one.example' })).header('cache-status')).toBe(
      'cache; hit; ttl=60',
    );
    expect(a.calls()).toBe(1104);
  });

  it('a hit replaces the fields set on the response before the middleware, each sent once', async () => {
    let now = Date.now();
    const cache = createHttpCache({ store: memoryBackend({ maxEntries: 10 }), now: () => now });
    const middleware = cacheMiddleware(cache);
    let calls = 0;
    const server = await listen((req, res) => {
      res.setHeader('X-Powered-By', 'test'); // as Express does before the routes
      middleware(req, res, () => {
        calls++;
        res.setHeader('Cache-Control', 'max-age=60');
        res.appendHeader('X-Line', 'a');
        res.setHeader('X-Other', 'o');
        res.appendHeader('x-line', 'b');
        res.end('ok');
      });
    });
    closers.push(server.close, () => cache.close());
    const miss = await send(server.base, '/p');
    now += 2000;
    const hit = await send(server.base, '/p');
    expect(calls).toBe(1);
    for (const r of [miss, hit]) {
      expect(r.raw.filter((h) => h.toLowerCase() === 'x-powered-by')).toHaveLength(1);
      // a field's lines go together, in order, under the first line's spelling (as node's setHeader sends them)
      const names = r.raw.filter((_h, i) => i % 2 === 0);
      const values = r.raw.filter((_h, i) => i % 2 === 1);
      expect(names.slice(0, 5)).toEqual(['X-Powered-By', 'Cache-Control', 'X-Line', 'X-Line', 'X-Other']);
      expect(values.slice(0, 5)).toEqual(['test', 'max-age=60', 'a', 'b', 'o']);
    }
    expect(hit.header('age')).toBe('2');
    expect(hit.header('cache-status')).toBe('cache; hit; ttl=58');
  });
});
