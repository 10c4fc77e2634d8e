// The undici CacheStore over real Redis (REDIS_URL, unique namespaces): memory + Redis in one process, two
// processes sharing one Redis (a response cached by one is a hit in the other; a POST in one invalidates in
// both), and entries in Redis that are not ours (a miss and a report, never a crash, then replaced).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type CacheError, CacheValue, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { coherentTiers, RedisBackend } from '@cache/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { undiciCacheStore } from '../src/undici/index.js';
import {
  binaryBody,
  cachingAgent,
  fetchVia,
  type Origin,
  REDIS_URL,
  startOrigin,
  uniqueNamespace,
} from './undici-helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function redisBackend(namespace: string): RedisBackend {
  const redis = new RedisBackend({ url: REDIS_URL, namespace });
  cleanup.push(async () => {
    await redis.clear();
    await redis.close();
  });
  return redis;
}

async function origin(handler: Parameters<typeof startOrigin>[0]): Promise<Origin> {
  const started = await startOrigin(handler);
  cleanup.push(() => started.close());
  return started;
}

/** A store over memory + the Redis at `namespace`, with its agent; each call is one more "process". */
function participant(redis: RedisBackend) {
  const errors: CacheError[] = [];
  const memory = memoryBackend({ maxEntries: 100 });
  const store = undiciCacheStore({ backend: compose(memory, redis), onError: (e) => errors.push(e) });
  const agent = cachingAgent(store);
  cleanup.push(() => agent.close());
  return { store, agent, memory, errors };
}

const cacheable = (body: string | Buffer) => (_req: unknown, res: import('node:http').ServerResponse) => {
  res.writeHead(200, { 'cache-control': 'max-age=60' });
  res.end(body);
};

describe('undiciCacheStore over memory + Redis', () => {
  it('a response stored by one store is a hit in another store on the same Redis, binary body intact', async () => {
    const body = binaryBody(70_000);
    const server = await origin(cacheable(body));
    const redis = redisBackend(uniqueNamespace('share'));
    const a = participant(redis);
    const b = participant(redis);
    await fetchVia(a.agent, `${server.url}/blob`);
    await a.store.flush();
    const fromRedis = await fetchVia(b.agent, `${server.url}/blob`);
    expect(server.count()).toBe(1);
    expect(fromRedis.body.equals(body)).toBe(true);
    expect(fromRedis.headers.age).toBeDefined();
    // The entry's lifetimes in Redis are the response's: stale at its staleAt, gone at its deleteAt.
    const key = { origin: server.url, method: 'GET', path: '/blob' };
    const stored = await redis.get(a.store.keyOf(key));
    const hit = await b.store.get(key);
    expect(stored?.expire).toBe(hit?.deleteAt);
    expect(stored?.stale).toBe(hit?.staleAt);
    expect(stored?.expire).toBeGreaterThan(Date.now() + 50_000);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('treats entries in Redis that are not ours as misses, reports them, and replaces them', async () => {
    const server = await origin(cacheable('fresh from the origin'));
    const redis = redisBackend(uniqueNamespace('hostile'));
    const hostile: [string, (key: import('@cache/core').CacheKey) => Promise<void>][] = [
      ['/bytes', (key) => redis.write(key, new CacheValue(new Uint8Array([0xff, 0x00, 0x13, 0x37, 0xc0])))],
      ['/shape', (key) => redis.set(key, CacheValue.fromTtl({ variants: 'nope' }, { ttlMs: 60_000 }))],
      [
        '/header-injection',
        (key) =>
          redis.set(
            key,
            CacheValue.fromTtl(
              [
                {
                  method: 'GET',
                  statusCode: 200,
                  statusMessage: 'OK',
                  headers: { 'x-evil': 'a\r\nset-cookie: session=stolen' },
                  cacheControlDirectives: {},
                  cachedAt: Date.now(),
                  staleAt: Date.now() + 60_000,
                  deleteAt: Date.now() + 60_000,
                  body: new Uint8Array(3),
                },
              ],
              { ttlMs: 60_000 },
            ),
          ),
      ],
      [
        '/status',
        (key) =>
          redis.set(
            key,
            CacheValue.fromTtl(
              [
                {
                  method: 'GET',
                  statusCode: 99_999,
                  statusMessage: 'OK',
                  headers: {},
                  cacheControlDirectives: {},
                  cachedAt: 0,
                  staleAt: 1e15,
                  deleteAt: 1e15,
                  body: 'not bytes',
                },
              ],
              { ttlMs: 60_000 },
            ),
          ),
      ],
    ];
    const p = participant(redis);
    for (const [path, plant] of hostile) {
      await plant(p.store.keyOf({ origin: server.url, method: 'GET', path }));
    }
    for (const [path] of hostile) {
      const res = await fetchVia(p.agent, `${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('fresh from the origin');
    }
    await p.store.flush();
    expect(server.count()).toBe(hostile.length);
    // Each entry is reported twice: by the read that missed, and by the write's read before replacing it.
    expect(p.errors.map((e) => e.code).sort()).toEqual([
      ...Array(6).fill('CORRUPT_ENTRY'),
      'DESERIALIZE',
      'DESERIALIZE',
    ]);
    // Replaced by good entries: another process (fresh memory) now hits in Redis.
    const q = participant(redis);
    for (const [path] of hostile) {
      expect((await fetchVia(q.agent, `${server.url}${path}`)).body.toString()).toBe('fresh from the origin');
    }
    expect(server.count()).toBe(hostile.length);
    expect(q.errors).toEqual([]);
  });
});

describe('undiciCacheStore shared by two processes', () => {
  const dist = fileURLToPath(new URL('../dist/undici/index.js', import.meta.url));

  it('a response cached by one process is a hit in the other; a POST in one invalidates in both', async () => {
    expect(existsSync(dist), 'build @cache/http first (pnpm exec tsc -p tsconfig.build.json)').toBe(true);
    let version = 1;
    const server = await origin((req, res) => {
      if (req.method === 'POST') version++;
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end(`v${version}`);
    });
    const namespace = uniqueNamespace('fleet');
    const here = await coherentParticipant(namespace);
    const child = spawnChild(dist, namespace);
    cleanup.push(async () => {
      await child.ask({ op: 'close' });
      child.done();
    });
    const url = `${server.url}/thing`;

    // Cached by the child, a hit here.
    expect(await child.ask({ op: 'fetch', url })).toMatchObject({ status: 200, body: 'v1' });
    await child.ask({ op: 'flush' });
    expect((await fetchVia(here.agent, url)).body.toString()).toBe('v1');
    expect(server.count('GET')).toBe(1);
    // Cached here (memory now holds it too), a hit in the child.
    expect(await child.ask({ op: 'fetch', url })).toMatchObject({ body: 'v1' });
    expect((await fetchVia(here.agent, url)).body.toString()).toBe('v1');
    expect(server.count('GET')).toBe(1);

    // A POST through the child invalidates the URL in Redis and, through coherence, in this process's memory.
    expect(await child.ask({ op: 'fetch', url, method: 'POST' })).toMatchObject({ status: 200 });
    let body = '';
    for (let tries = 0; tries < 100 && body !== 'v2'; tries++) {
      body = (await fetchVia(here.agent, url)).body.toString();
      if (body !== 'v2') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(body).toBe('v2');
    await here.store.flush();
    expect(await child.ask({ op: 'fetch', url })).toMatchObject({ body: 'v2' });
    expect(server.count('GET')).toBe(2);
    expect(here.errors).toEqual([]);
  });
});

async function coherentParticipant(namespace: string) {
  const errors: CacheError[] = [];
  const redis = new RedisBackend({ url: REDIS_URL, namespace });
  const tiers = coherentTiers({
    l1: memoryBackend({ maxEntries: 100 }),
    l2: redis,
    redis: { url: REDIS_URL },
  });
  await tiers.whenTrusted(10_000);
  const store = undiciCacheStore({ backend: tiers, onError: (e) => errors.push(e) });
  const agent = cachingAgent(store);
  cleanup.push(async () => {
    await agent.close();
    await redis.clear();
    await tiers.close();
  });
  return { store, agent, errors };
}

/** A child Node process with its own undici agent and store over coherent memory + Redis tiers, driven by JSON lines. */
function spawnChild(dist: string, namespace: string) {
  const script = `
    import { createInterface } from 'node:readline';
    import { memoryBackend } from '@cache/memory';
    import { coherentTiers, RedisBackend } from '@cache/redis';
    import { Agent, interceptors, request } from 'undici';
    const { undiciCacheStore } = await import(${JSON.stringify(dist)});
    const url = ${JSON.stringify(REDIS_URL)};
    const tiers = coherentTiers({
      l1: memoryBackend({ maxEntries: 100 }),
      l2: new RedisBackend({ url, namespace: ${JSON.stringify(namespace)} }),
      redis: { url },
    });
    await tiers.whenTrusted(10000);
    const store = undiciCacheStore({ backend: tiers, onError: (e) => console.error(e.message) });
    const agent = new Agent().compose(interceptors.cache({ store, type: 'shared' }));
    const reply = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    reply({ ready: true });
    for await (const line of createInterface({ input: process.stdin })) {
      const msg = JSON.parse(line);
      if (msg.op === 'fetch') {
        const res = await request(msg.url, { dispatcher: agent, method: msg.method ?? 'GET' });
        reply({ status: res.statusCode, body: await res.body.text() });
      } else if (msg.op === 'flush') { await store.flush(); reply({}); }
      else if (msg.op === 'close') { await agent.close(); await tiers.close(); reply({}); break; }
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value: line, done } = await lines.next();
    if (done) throw new Error('the child process ended');
    return JSON.parse(line) as Record<string, unknown>;
  };
  const ready = next();
  return {
    async ask(message: Record<string, unknown>): Promise<Record<string, unknown>> {
      await ready;
      child.stdin.write(`${JSON.stringify(message)}\n`);
      return next();
    },
    done(): void {
      child.stdin.end();
      if (child.exitCode === null) child.kill();
    },
  };
}
