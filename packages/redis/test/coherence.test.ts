// Coherence across processes: independent clients (own node-redis connections, own memory tiers) sharing one
// Redis, on a single node and on the cluster. When one writes or deletes, the others stop serving their old copy
// within the stated bound (maxStalenessMs). Uses the test command's shared servers with unique namespaces.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CacheKey, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CoherenceErrorEvent,
  type CoherentTiers,
  coherentTiers,
  RedisBackend,
  type TrustChange,
} from '../src/index.js';
import { cacheIn, read, stopsServing as stopsServingWithin, value } from './coherence-helpers.js';
import { CLUSTER_NODES, REDIS_URL, rawClient, rawCluster, sleep, uniqueNamespace } from './helpers.js';

/** The bound under test, and a heartbeat well inside it. */
const BOUND_MS = 1000;
const HEARTBEAT_MS = 200;

type Mode = 'single' | 'cluster';

interface Probe {
  readonly tiers: CoherentTiers;
  readonly errors: CoherenceErrorEvent[];
  readonly changes: TrustChange[];
}

const opened: Probe[] = [];
afterAll(async () => {
  for (const { tiers } of opened) await tiers.close();
});

function redisTarget(mode: Mode) {
  return mode === 'single' ? { url: REDIS_URL } : { cluster: { nodes: CLUSTER_NODES } };
}

/** One independent participant: its own memory tier, Redis backend, publisher and subscriber connections. */
async function participant(mode: Mode, namespace: string): Promise<Probe> {
  const errors: CoherenceErrorEvent[] = [];
  const changes: TrustChange[] = [];
  const tiers = coherentTiers({
    l1: memoryBackend({ maxEntries: 1000 }),
    l2: new RedisBackend({ ...redisTarget(mode), namespace }),
    redis: redisTarget(mode),
    maxStalenessMs: BOUND_MS,
    heartbeatIntervalMs: HEARTBEAT_MS,
    onError: (event) => errors.push(event),
    onTrustChange: (change) => changes.push(change),
  });
  const probe = { tiers, errors, changes };
  opened.push(probe);
  await tiers.whenTrusted(10_000);
  return probe;
}

const stopsServing = (tiers: CoherentTiers, key: CacheKey, old: unknown): Promise<number> =>
  stopsServingWithin(tiers, key, old, { limitMs: BOUND_MS });

for (const mode of ['single', 'cluster'] as const) {
  describe(`coherence (${mode})`, () => {
    it('B sets a key A holds in memory: A stops serving its copy within the bound', async () => {
      const ns = uniqueNamespace(`coherence-${mode}`);
      const [{ tiers: a }, { tiers: b }] = await Promise.all([participant(mode, ns), participant(mode, ns)]);
      const key = CacheKey.of('user', '1');
      await b.set(key, value({ v: 1 }));
      await cacheIn(a, key, { v: 1 });

      await b.set(key, value({ v: 2 }));
      const ms = await stopsServing(a, key, { v: 1 });
      expect(await read(a, key)).toEqual({ data: { v: 2 }, source: expect.stringMatching(/^cache\./) });
      expect(a.stats.received).toBeGreaterThanOrEqual(1);
      console.info(`[coherence ${mode}] set seen by the other process after ${ms.toFixed(1)} ms`);
      // Refilled from Redis and served from memory again.
      expect(await read(a, key)).toEqual({ data: { v: 2 }, source: 'cache.memory' });
    });

    it('B deletes a key A holds in memory: A misses within the bound', async () => {
      const ns = uniqueNamespace(`coherence-${mode}`);
      const [{ tiers: a }, { tiers: b }] = await Promise.all([participant(mode, ns), participant(mode, ns)]);
      const key = CacheKey.from({ id: '7', flag: null }, { prefix: 'p', version: 3 });
      await a.set(key, value('kept'));
      expect(await read(a, key)).toEqual({ data: 'kept', source: 'cache.memory' });

      expect(await b.delete(key)).toEqual({ kind: 'deleted', count: 1 });
      await stopsServing(a, key, 'kept');
      expect(await read(a, key)).toEqual({ data: undefined });
    });

    it('a process ignores its own invalidations and keeps serving what it wrote from memory', async () => {
      const ns = uniqueNamespace(`coherence-${mode}`);
      const [{ tiers: a }, { tiers: b }] = await Promise.all([participant(mode, ns), participant(mode, ns)]);
      const key = CacheKey.of('own');
      await a.set(key, value('mine'));
      // B receives it; by then A has received its own message too (same channel, same order).
      const until = Date.now() + 5000;
      while (a.stats.ownIgnored < 1 && Date.now() < until) await sleep(5);
      expect(a.stats).toMatchObject({ published: 1, ownIgnored: 1, received: 0 });
      expect(await read(a, key)).toEqual({ data: 'mine', source: 'cache.memory' });
      expect(b.stats.received).toBe(1);
    });

    it('reads a third-party invalidation in the documented format; malformed messages clear L1', async () => {
      const ns = uniqueNamespace(`coherence-${mode}`);
      const { tiers: a, errors } = await participant(mode, ns);
      // Another program writes Redis directly (no invalidation of its own) and then publishes by hand.
      const other = new RedisBackend({ ...redisTarget(mode), namespace: ns });
      const k1 = CacheKey.of('k', '1');
      const k2 = CacheKey.of('k', '2');
      await a.set(k1, value(1));
      await a.set(k2, value(2));
      const raw = mode === 'single' ? await rawClient() : await rawCluster();
      const channel = a.channels.invalidations;
      const publish = (message: string) =>
        mode === 'single'
          ? (raw as Awaited<ReturnType<typeof rawClient>>).publish(channel, message)
          : (raw as Awaited<ReturnType<typeof rawCluster>>).sPublish(channel, message);
      try {
        await other.set(k1, value(10));
        await other.set(k2, value(20));
        // Without a message, memory keeps its copy: this is what the channel is for.
        expect(await read(a, k1)).toEqual({ data: 1, source: 'cache.memory' });

        await publish(`{"v":1,"from":"rust-service","key":${k1.canonical}}`);
        await stopsServing(a, k1, 1);
        expect(await read(a, k1)).toEqual({ data: 10, source: expect.stringMatching(/^cache\./) });
        expect(await read(a, k2)).toEqual({ data: 2, source: 'cache.memory' });

        await publish('{"v":1,"from":"rust-service","key":"not a key"}');
        await stopsServing(a, k2, 2);
        expect(await read(a, k2)).toEqual({ data: 20, source: expect.stringMatching(/^cache\./) });
        expect(errors.map((e) => e.operation)).toEqual(['message']);
        expect(errors[0]?.error.code).toBe('BACKEND');
      } finally {
        await raw.close();
        await other.close();
      }
    });
  });
}

describe('coherence (nested far tier)', () => {
  it('memory+(memory+redis): invalidations reach both memories; untrusted reads go to the far store', async () => {
    const ns = uniqueNamespace('coherence-nested');
    const nested = (bus: { url: string }) => {
      const outer = memoryBackend({ maxEntries: 100 });
      const inner = memoryBackend({ maxEntries: 100 });
      const tiers = coherentTiers({
        l1: outer,
        l2: compose(inner, new RedisBackend({ url: REDIS_URL, namespace: ns }), { label: 'inner' }),
        redis: bus,
        maxStalenessMs: BOUND_MS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        onError: () => {},
      });
      opened.push({ tiers, errors: [], changes: [] });
      return { tiers, outer, inner };
    };
    const a = nested({ url: REDIS_URL });
    const { tiers: b } = await participant('single', ns);
    await a.tiers.whenTrusted(10_000);
    const key = CacheKey.of('nested');
    await b.set(key, value('v1'));
    const until = Date.now() + 5000;
    while (a.tiers.stats.received < 1 && Date.now() < until) await sleep(2);
    expect(await read(a.tiers, key)).toEqual({ data: 'v1', source: 'cache.inner.redis' });
    expect(await read(a.tiers, key)).toEqual({ data: 'v1', source: 'cache.memory' });
    expect(a.inner.get(key)?.data).toBe('v1');

    await b.set(key, value('v2'));
    while (a.tiers.stats.received < 2 && Date.now() < until + 5000) await sleep(1);
    expect(a.outer.get(key)).toBeUndefined();
    expect(a.inner.get(key)).toBeUndefined();
    expect(await read(a.tiers, key)).toEqual({ data: 'v2', source: 'cache.inner.redis' });

    // Never trusted (no Redis for its channel): reads skip both memories and do not fill them.
    const c = nested({ url: 'redis://127.0.0.1:18152' });
    expect(await read(c.tiers, key)).toEqual({ data: 'v2', source: 'cache.inner.redis' });
    expect(c.tiers.stats.bypassedReads).toBe(1);
    expect(c.inner.size + c.outer.size).toBe(0);
  });
});

describe('coherence (separate processes)', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  it('a child process and this one keep each other coherent', async () => {
    expect(existsSync(dist), 'build @cache/redis first (npx tsc -p tsconfig.build.json)').toBe(true);
    const ns = uniqueNamespace('coherence-process');
    const { tiers: here } = await participant('single', ns);
    const child = spawnChild(dist, ns);
    try {
      const key = CacheKey.of('shared', 'x');
      await here.set(key, value('from parent'));
      expect(await child.ask({ op: 'get', key: 'x' })).toEqual({
        data: 'from parent',
        source: 'cache.redis',
      });
      expect(await child.ask({ op: 'get', key: 'x' })).toEqual({
        data: 'from parent',
        source: 'cache.memory',
      });

      // This process writes; the child stops serving its memory copy within the bound.
      await here.set(key, value('parent again'));
      await sleep(BOUND_MS);
      expect((await child.ask({ op: 'get', key: 'x' })).data).toBe('parent again');

      // The child writes; this process stops serving its copy.
      expect(await read(here, key)).toEqual({ data: 'parent again', source: 'cache.memory' });
      await child.ask({ op: 'set', key: 'x', data: 'from child' });
      await stopsServing(here, key, 'parent again');
      expect((await read(here, key)).data).toBe('from child');
    } finally {
      await child.ask({ op: 'close' });
      child.done();
    }
  });
});

/** A child Node process with its own coherent tiers, driven by JSON lines on stdin/stdout. */
function spawnChild(dist: string, namespace: string) {
  const script = `
    import { createInterface } from 'node:readline';
    import { CacheKey, CacheValue } from '@cache/core';
    import { memoryBackend } from '@cache/memory';
    const { coherentTiers, RedisBackend } = await import(${JSON.stringify(dist)});
    const url = ${JSON.stringify(REDIS_URL)};
    const tiers = coherentTiers({
      l1: memoryBackend({ maxEntries: 100 }),
      l2: new RedisBackend({ url, namespace: ${JSON.stringify(namespace)} }),
      redis: { url }, maxStalenessMs: ${BOUND_MS}, heartbeatIntervalMs: ${HEARTBEAT_MS},
      onError: (e) => console.error(e.error.message),
    });
    await tiers.whenTrusted(10000);
    const reply = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    reply({ ready: true });
    for await (const line of createInterface({ input: process.stdin })) {
      const msg = JSON.parse(line);
      const key = CacheKey.of('shared', msg.key ?? null);
      if (msg.op === 'get') { const info = {}; const hit = await tiers.get(key, info); reply({ data: hit?.data, source: info.source }); }
      else if (msg.op === 'set') { await tiers.set(key, CacheValue.fromTtl(msg.data, { ttlMs: 600000 })); reply({}); }
      else if (msg.op === 'close') { await tiers.close(); reply({}); break; }
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
