// The middleware in Fastify 5 through @fastify/middie (`app.use(cacheMiddleware(cache))`): Fastify writes its
// reply through the response the middleware captures, and a hit is answered before the route runs.
import middie from '@fastify/middie';
import { memoryBackend } from '@cache/memory';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheMiddleware, createHttpCache } from '../src/index.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('cacheMiddleware in Fastify (@fastify/middie)', () => {
  it('stores the reply of a route and answers later requests before the route runs', async () => {
    const cache = createHttpCache({ store: memoryBackend({ maxEntries: 100 }) });
    const app = Fastify();
    await app.register(middie);
    app.use(cacheMiddleware(cache));
    let calls = 0;
    app.get('/items/:id', async (request, reply) => {
      calls++;
      reply.header('cache-control', 'max-age=60');
      return { id: (request.params as { id: string }).id, calls };
    });
    app.post('/items/:id', async (_request, reply) => {
      reply.code(204);
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(async () => {
      await app.close();
      await cache.close();
    });

    const first = await fetch(`${base}/items/1`);
    expect(await first.json()).toEqual({ id: '1', calls: 1 });
    expect(first.headers.get('cache-status')).toMatch(
      /^cache; fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/,
    );
    const second = await fetch(`${base}/items/1`);
    expect(await second.json()).toEqual({ id: '1', calls: 1 });
    expect(second.headers.get('cache-status')).toMatch(/^cache; hit; ttl=\d+$/);
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await fetch(`${base}/items/1`, { method: 'POST' })).status).toBe(204);
    expect(await (await fetch(`${base}/items/1`)).json()).toEqual({ id: '1', calls: 2 });
    expect(calls).toBe(2);
  });
});
