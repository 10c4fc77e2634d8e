// The failure envelope against real Redis servers this file starts itself (ports 18200-18215, never the shared
// ones): frozen (SIGSTOP), stopped and restarted empty, a cluster master killed, and coherent tiers over a frozen
// server. Latency bounds here are hang checks (well under a deadline), not speed measurements.
import { randomBytes } from 'node:crypto';
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { coherentTiers, RedisBackend } from '@cache/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, TestServer } from '../../redis/test/servers.js';
import { type Cache, type CacheEvent, createCache } from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DEADLINE_MS = 400;
const LOADER_MS = 20;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function ownServer(port: number): Promise<TestServer> {
  const server = new TestServer(port);
  await server.start();
  cleanups.push(async () => {
    server.signal('SIGCONT');
    await server.stop({ hard: true });
  });
  return server;
}

function tieredCache(url: string, events: CacheEvent[]) {
  const redis = new RedisBackend({
    url,
    namespace: `envelope:${randomBytes(4).toString('hex')}:`,
    responseTimeoutMs: DEADLINE_MS,
    breaker: { failureThreshold: 3, openMs: 500 },
  });
  const cache = createCache({
    store: compose(memoryBackend({ maxEntries: 1_000 }), redis, { onError: () => undefined }),
    namespace: 'envelope',
    onEvent: (event) => events.push(event),
  });
  cleanups.push(() => cache.close());
  return { cache, redis };
}

/** Calls getOrSet for `key` with a loader of LOADER_MS and measures how long the caller waited. */
async function timedLoad(cache: Cache, key: string, counter: { loads: number }) {
  const started = performance.now();
  const value = await cache.getOrSet(key, async () => {
    counter.loads++;
    await sleep(LOADER_MS);
    return `value of ${key}`;
  });
  return { value, ms: performance.now() - started };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`not true within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('getOrSet over memory + Redis when Redis fails', () => {
  it('a frozen Redis costs a few requests one deadline each; once the breaker is open, cold keys cost the loader only', async () => {
    const server = await ownServer(18200);
    const events: CacheEvent[] = [];
    const { cache, redis } = tieredCache('redis://127.0.0.1:18200', events);
    const counter = { loads: 0 };
    await timedLoad(cache, 'warm', counter);

    server.signal('SIGSTOP');
    const calls = [];
    for (let i = 0; i < 12; i++) calls.push(await timedLoad(cache, `cold-${i}`, counter));
    expect(calls.map((c) => c.value)).toEqual(calls.map((_, i) => `value of cold-${i}`));
    const paidDeadline = calls.filter((c) => c.ms >= DEADLINE_MS).length;
    expect(paidDeadline).toBeLessThanOrEqual(3);
    // Every call after the breaker opened: the loader's time, far from a deadline.
    for (const call of calls.slice(6)) expect(call.ms).toBeLessThan(DEADLINE_MS / 2);
    expect(events.some((e) => e.type === 'breaker' && e.to === 'open')).toBe(true);
    // The memory tier keeps answering what it holds.
    expect((await timedLoad(cache, 'warm', counter)).ms).toBeLessThan(DEADLINE_MS / 2);
    expect(counter.loads).toBe(13);

    server.signal('SIGCONT');
    await eventually(async () => {
      await cache.set('after', 'thaw');
      return (await redis.get(cache.key('after')))?.data === 'thaw';
    }, 5_000);
    const changes = events.flatMap((e) => (e.type === 'breaker' ? [e.to] : []));
    expect(changes.slice(-2)).toEqual(['half-open', 'closed']);
  }, 30_000);

  it('a stopped Redis: nothing rejects, get answers misses, and writes reach Redis again after a restart', async () => {
    const server = await ownServer(18201);
    const events: CacheEvent[] = [];
    const { cache, redis } = tieredCache('redis://127.0.0.1:18201', events);
    const counter = { loads: 0 };
    await timedLoad(cache, 'before', counter);

    await server.stop();
    for (let i = 0; i < 5; i++) {
      const { value, ms } = await timedLoad(cache, `down-${i}`, counter);
      expect(value).toBe(`value of down-${i}`);
      expect(ms).toBeLessThan(DEADLINE_MS * 2);
    }
    expect(await cache.get('never-set')).toBeUndefined();
    expect(events.some((e) => e.type === 'store-error')).toBe(true);

    await server.start(); // empty: no persistence
    await eventually(async () => {
      await cache.set('back', 1);
      return (await redis.get(cache.key('back')))?.data === 1;
    }, 8_000);
    expect((await timedLoad(cache, 'fresh-after-restart', counter)).value).toBe(
      'value of fresh-after-restart',
    );
  }, 30_000);

  it('coherent tiers over a frozen Redis: one loader call per key per fallbackTtlMs, never a deadline per request', async () => {
    const server = await ownServer(18202);
    const url = 'redis://127.0.0.1:18202';
    const tiers = coherentTiers({
      l1: memoryBackend({ maxEntries: 1_000 }),
      l2: new RedisBackend({
        url,
        namespace: `envelope:${randomBytes(4).toString('hex')}:`,
        responseTimeoutMs: DEADLINE_MS,
        breaker: { failureThreshold: 3, openMs: 10_000 },
      }),
      redis: { url },
      maxStalenessMs: 2_000,
      onError: () => undefined,
    });
    const cache = createCache({ store: tiers, fallbackTtlMs: 1_000, onEvent: () => undefined });
    cleanups.push(() => cache.close());
    const counter = { loads: 0 };
    await timedLoad(cache, 'hot', counter);

    server.signal('SIGSTOP');
    const durations: number[] = [];
    const started = Date.now();
    while (Date.now() - started < 4_000) {
      durations.push((await timedLoad(cache, 'hot', counter)).ms);
      await sleep(50);
    }
    // About 4 s of requests every ~50 ms: without the fallback each would run the loader.
    expect(durations.length).toBeGreaterThan(30);
    expect(counter.loads).toBeLessThanOrEqual(8);
    const slow = durations.filter((ms) => ms >= DEADLINE_MS).length;
    expect(slow).toBeLessThanOrEqual(3);
  }, 30_000);
});

describe('getOrSet over Redis Cluster when a master dies', () => {
  it('no request fails while the cluster fails over, and writes land on the new master', async () => {
    const ports = [18210, 18211, 18212, 18213, 18214, 18215];
    const cluster = new TestCluster(ports);
    await cluster.start();
    cleanups.push(() => cluster.stop());
    const redis = new RedisBackend({
      cluster: { nodes: ports.slice(0, 3).map((port) => `127.0.0.1:${port}`) },
      namespace: `envelope:${randomBytes(4).toString('hex')}:`,
      responseTimeoutMs: 1_000,
    });
    const cache = createCache({
      store: compose(memoryBackend({ maxEntries: 10_000 }), redis, { onError: () => undefined }),
      onEvent: () => undefined,
    });
    cleanups.push(() => cache.close());
    const counter = { loads: 0 };
    for (let i = 0; i < 30; i++) await timedLoad(cache, `before-${i}`, counter);

    const victim = cluster.servers[0] as TestServer;
    await victim.stop({ hard: true });
    const failures: unknown[] = [];
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 8_000) {
      const key = `during-${i++}`;
      await timedLoad(cache, key, counter).catch((error: unknown) => failures.push(error));
    }
    expect(failures).toEqual([]);
    await eventually(async () => {
      await cache.set('after-failover', 'ok');
      return (await redis.get(cache.key('after-failover')))?.data === 'ok';
    }, 20_000);
  }, 120_000);
});
