/**
 * HTTP caching in one short run, on memory + Redis (or memory alone when Redis does not answer):
 * 1. server side: a node:http app whose product route is cached by `cacheMiddleware` (Cache-Status on every
 *    response, 20 concurrent requests for a cold product collapsed into one handler run, a POST invalidating);
 * 2. client side: undici `fetch` through the cache interceptor with our `undiciCacheStore`, two clients with
 *    their own memory tier sharing one Redis: what one fetched, the other gets without asking the server.
 * It checks its own numbers and exits with status 1 if one is not what the comments say.
 * Run it with `pnpm start`; `REDIS_URL` picks the server (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type CacheBackend, compose } from '@cache/core';
import { cacheMiddleware, createHttpCache, undiciCacheStore } from '@cache/http';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { Agent, fetch, interceptors } from 'undici';
import { probeRedis } from './probe.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Everything this run writes lives under its own prefix, and is removed at the end (never FLUSHALL).
const namespace = `demo:http:${randomBytes(4).toString('hex')}:`;
let failures = 0;

function check(what: string, actual: unknown, expected: unknown): void {
  const ok = actual === expected;
  if (!ok) failures++;
  console.log(
    `  ${ok ? 'ok ' : 'UNEXPECTED'} ${what}: ${String(actual)}${ok ? '' : ` (expected ${String(expected)})`}`,
  );
}

const unreachable = await probeRedis(url, namespace);
const redis = unreachable === undefined ? new RedisBackend({ url, namespace }) : undefined;
/** One process's tiers: its own memory in front of the shared Redis (or memory alone). */
const tiers = (): CacheBackend =>
  redis === undefined
    ? memoryBackend({ maxEntries: 1000 })
    : compose(memoryBackend({ maxEntries: 1000 }), redis);
console.log(
  redis === undefined
    ? `Redis is NOT reachable (${unreachable}): running on memory alone, no sharing between clients.`
    : `memory in front of Redis at ${url.replace(/\/\/[^@/]*@/, '//***@')}, keys under "${namespace}"`,
);

// ── the application: one slow product route, and a counter of what reaches the server ──────────────────────
let handlerRuns = 0;
let serverRequests = 0;
const products = new Map([
  ['1', 'teapot'],
  ['2', 'kettle'],
]);

function app(req: IncomingMessage, res: ServerResponse): void {
  handlerRuns++;
  const id = req.url?.split('/')[2] ?? '';
  if (req.method === 'POST') {
    products.set(id, `${products.get(id) ?? 'thing'} (renamed)`);
    res.writeHead(204).end();
    return;
  }
  // 50 ms of "database", then a response any shared cache may keep for a minute.
  setTimeout(() => {
    const body = JSON.stringify({
      id,
      name: products.get(id) ?? 'unknown',
      renderedAt: new Date().toISOString(),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' });
    res.end(body);
  }, 50);
}

const httpCache = createHttpCache({ store: tiers(), name: 'demo' });
const cached = cacheMiddleware(httpCache);
const server = createServer((req, res) => {
  serverRequests++;
  cached(req, res, (error) => {
    if (error === undefined) app(req, res);
    else res.writeHead(500).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function get(path: string, init: { method?: string } = {}) {
  const res = await fetch(`${base}${path}`, init);
  await res.arrayBuffer();
  return res;
}

try {
  console.log('\n── server side: cacheMiddleware in front of the product route ──');
  const first = await get('/products/1');
  console.log(`  GET /products/1  ${first.status}  Cache-Status: ${first.headers.get('cache-status')}`);
  const second = await get('/products/1');
  console.log(`  GET /products/1  ${second.status}  Cache-Status: ${second.headers.get('cache-status')}`);
  check('handler runs after two GETs of product 1', handlerRuns, 1);

  const before = handlerRuns;
  const burst = await Promise.all(Array.from({ length: 20 }, () => get('/products/2')));
  const statuses = new Map<string, number>();
  for (const res of burst) {
    const status = res.headers.get('cache-status') ?? '(none)';
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  console.log('  20 concurrent GET /products/2:');
  for (const [status, count] of statuses)
    console.log(`    ${String(count).padStart(2)} × Cache-Status: ${status}`);
  check('handler runs for those 20 requests (collapsed)', handlerRuns - before, 1);

  const post = await get('/products/1', { method: 'POST' });
  const after = await get('/products/1');
  console.log(
    `  POST /products/1 ${post.status}, then GET ${after.status}  Cache-Status: ${after.headers.get('cache-status')}`,
  );
  check('the GET after the POST ran the handler again', handlerRuns, before + 3);

  console.log('\n── client side: undici fetch through the cache interceptor, our CacheStore ──');
  const client = () => {
    const store = undiciCacheStore({ backend: tiers(), keyPrefix: 'client' });
    return { store, agent: new Agent().compose(interceptors.cache({ store, type: 'shared' })) };
  };
  const a = client();
  const b = client();
  try {
    const requestsBefore = serverRequests;
    const fromServer = await fetch(`${base}/products/2`, { dispatcher: a.agent });
    await fromServer.arrayBuffer();
    await a.store.flush(); // the entry is in Redis once the write settles
    const viaA = await fetch(`${base}/products/2`, { dispatcher: a.agent });
    await viaA.arrayBuffer();
    console.log(`  client A, twice: the second answered by its store (Age: ${viaA.headers.get('age')})`);
    const viaB = await fetch(`${base}/products/2`, { dispatcher: b.agent });
    await viaB.arrayBuffer();
    console.log(
      redis === undefined
        ? '  client B: its own memory store, nothing shared without Redis'
        : `  client B (its own memory tier, same Redis): answered from Redis (Age: ${viaB.headers.get('age')})`,
    );
    check('requests that reached the server', serverRequests - requestsBefore, redis === undefined ? 2 : 1);
  } finally {
    await a.agent.close();
    await b.agent.close();
  }
} finally {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await httpCache.close();
  if (redis !== undefined) {
    await redis.clear().catch(() => undefined);
    await redis.close();
  }
}

console.log(failures === 0 ? '\nall checks passed' : `\n${failures} check(s) FAILED`);
process.exitCode = failures === 0 ? 0 : 1;
