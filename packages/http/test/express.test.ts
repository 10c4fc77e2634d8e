// The middleware in a real Express 5 app: `app.use(cacheMiddleware(cache))` before the routes. Express's own
// res.send / res.json / res.status, its automatic ETag and its 304 for fresh conditional requests all run through
// the capture; routes after the middleware run at most once per key.
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryBackend } from '@cache/memory';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheMiddleware, createHttpCache, pathMatches } from '../src/index.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start() {
  let now = Date.now();
  const cache = createHttpCache({
    store: memoryBackend({ maxEntries: 100 }),
    request: pathMatches('/api/*'),
    now: () => now,
  });
  const calls: Record<string, number> = {};
  const app = express();
  app.use(cacheMiddleware(cache));
  app.get('/api/items/:id', (req, res) => {
    const id = String(req.params.id);
    calls[id] = (calls[id] ?? 0) + 1;
    res.set('Cache-Control', 'max-age=30').json({ id, call: calls[id] });
  });
  app.get('/api/constant', (_req, res) => {
    calls.constant = (calls.constant ?? 0) + 1;
    res.set('Cache-Control', 'max-age=30').send('the same body every time');
  });
  app.get('/api/missing', (_req, res) => {
    res.status(404).set('Cache-Control', 'max-age=30').send('no such thing');
  });
  app.post('/api/items/:id', (_req, res) => {
    res.status(204).end();
  });
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await cache.close();
  });
  return { base, calls, advance: (ms: number) => (now += ms) };
}

describe('cacheMiddleware in Express', () => {
  it('caches res.json responses, keeps Express headers and its ETag, and answers conditionals with 304', async () => {
    const { base, calls } = await start();
    const first = await fetch(`${base}/api/items/7`);
    expect(await first.json()).toEqual({ id: '7', call: 1 });
    expect(first.headers.get('cache-status')).toBe('cache; fwd=uri-miss; fwd-status=200; ttl=30; stored');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/"/);

    const second = await fetch(`${base}/api/items/7`);
    expect(await second.json()).toEqual({ id: '7', call: 1 });
    expect(second.headers.get('cache-status')).toBe('cache; hit; ttl=30');
    expect(second.headers.get('x-powered-by')).toBe('Express');
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');

    // node:http, not fetch: fetch adds `Cache-Control: max-age=0` to a request with If-None-Match, which makes the
    // cache revalidate (and Express never answers 304 to a no-cache request).
    const conditional = await new Promise<{ status: number; cacheStatus: unknown }>((resolve, reject) => {
      httpGet(`${base}/api/items/7`, { headers: { 'if-none-match': etag ?? '' } }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, cacheStatus: res.headers['cache-status'] }),
        );
      }).on('error', reject);
    });
    expect(conditional).toEqual({ status: 304, cacheStatus: 'cache; hit; ttl=30' });
    expect(calls['7']).toBe(1);
  });

  it('revalidates a stale response through the route (a changed body is stored anew)', async () => {
    const { base, calls, advance } = await start();
    await fetch(`${base}/api/items/8`);
    advance(31_000);
    const revalidated = await fetch(`${base}/api/items/8`);
    // the route ran again (its body says call 2, so the ETag differs and Express sends 200): stored anew
    expect(await revalidated.json()).toEqual({ id: '8', call: 2 });
    expect(revalidated.headers.get('cache-status')).toBe('cache; fwd=stale; fwd-status=200; ttl=30; stored');
    expect(calls['8']).toBe(2);
  });

  it('revalidates with the stored ETag: Express answers 304 itself and the stored body is served', async () => {
    const { base, calls, advance } = await start();
    await fetch(`${base}/api/constant`);
    advance(31_000);
    const revalidated = await fetch(`${base}/api/constant`);
    expect(revalidated.status).toBe(200);
    expect(await revalidated.text()).toBe('the same body every time');
    expect(revalidated.headers.get('cache-status')).toBe('cache; fwd=stale; fwd-status=304; ttl=30; stored');
    expect(calls.constant).toBe(2);
  });

  it('leaves routes outside the predicate alone, does not keep a 404, and a POST invalidates', async () => {
    const { base, calls } = await start();
    expect((await fetch(`${base}/health`)).headers.get('cache-status')).toBe(
      'cache; fwd=bypass; fwd-status=200',
    );
    const missing = await fetch(`${base}/api/missing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-status')).toBe('cache; fwd=uri-miss; fwd-status=404; detail=policy');
    await fetch(`${base}/api/items/9`);
    expect((await fetch(`${base}/api/items/9`)).headers.get('cache-status')).toMatch(/hit/);
    expect((await fetch(`${base}/api/items/9`, { method: 'POST' })).status).toBe(204);
    const after = await fetch(`${base}/api/items/9`);
    expect(await after.json()).toEqual({ id: '9', call: 2 });
    expect(calls['9']).toBe(2);
  });
});
