// Batch writes, clear and invalidateAll across coherent tiers: independent participants (own connections, own
// memory tiers) on a single node and on the cluster, and a child process. After setMany/deleteMany, clear,
// clearPrefix or invalidateAll of one participant resolves, the others stop serving their memory copies within
// the bound.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CacheError, CacheKey, type CacheValue, type ReadInfo, setMany } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { type CoherenceErrorEvent, type CoherentTiers, coherentTiers, RedisBackend } from '../src/index.js';
import { parseInvalidation } from '../src/coherence/messages.js';
import { cacheIn, read, stopsServing as stopsServingWithin, value } from './coherence-helpers.js';
import { CLUSTER_NODES, REDIS_URL, sleep, uniqueNamespace } from './helpers.js';

const BOUND_MS = 1000;
const HEARTBEAT_MS = 200;

type Mode = 'single' | 'cluster';

const opened: CoherentTiers[] = [];
afterAll(async () => {
  for (const tiers of opened) {
    await tiers.clear().catch(() => undefined);
    await tiers.close();
  }
});

function redisTarget(mode: Mode) {
  return mode === 'single' ? { url: REDIS_URL } : { cluster: { nodes: CLUSTER_NODES } };
}

async function participant(
  mode: Mode,
  namespace: string,
  errors: CoherenceErrorEvent[] = [],
): Promise<CoherentTiers> {
  const tiers = coherentTiers({
    l1: memoryBackend({ maxEntries: 10_000 }),
    l2: new RedisBackend({ ...redisTarget(mode), namespace }),
    redis: redisTarget(mode),
    maxStalenessMs: BOUND_MS,
    heartbeatIntervalMs: HEARTBEAT_MS,
    onError: (event) => errors.push(event),
  });
  opened.push(tiers);
  await tiers.whenTrusted(10_000);
  return tiers;
}

const stopsServing = (tiers: CoherentTiers, key: CacheKey, old: unknown): Promise<number> =>
  stopsServingWithin(tiers, key, old, { limitMs: BOUND_MS });

const key = (prefix: string, id: string | number): CacheKey =>
  new CacheKey(prefix, 0, [{ name: 'id', value: String(id) }]);

for (const mode of ['single', 'cluster'] as const) {
  describe(`coherent tiers batches and clear (${mode})`, () => {
    it('getMany: memory hits first, one batched Redis read for the rest, refilled into memory', async () => {
      const ns = uniqueNamespace(`coh-batch-${mode}`);
      const a = await participant(mode, ns);
      const keys = Array.from({ length: 50 }, (_, i) => key('app', i));
      await setMany(
        a.composition.l2,
        keys.map((k, i) => ({ key: k, value: value(`v${i}`) })),
      );
      await a.set(keys[0] as CacheKey, value('v0'));
      const infos: ReadInfo[] = keys.map(() => ({}));
      const results = await a.getMany<string>(keys, infos);
      expect(results.map((r) => (r as CacheValue<string>).data)).toEqual(keys.map((_, i) => `v${i}`));
      expect(infos[0]?.source).toBe('cache.memory');
      expect(infos[1]?.source).toBe('cache.redis');
      await a.composition.whenIdle();
      const again: ReadInfo[] = keys.map(() => ({}));
      await a.getMany(keys, again);
      expect(again.every((i) => i.source === 'cache.memory')).toBe(true);
    });

    it('getMany while memory is not trusted yet goes to Redis in one batch, counted as bypassed reads', async () => {
      const ns = uniqueNamespace(`coh-batch-${mode}`);
      const a = await participant(mode, ns);
      const keys = [key('app', 1), key('app', 2)];
      await a.setMany([{ key: keys[0] as CacheKey, value: value('one') }]);
      // Just created: no heartbeat has come back, so memory is not trusted.
      const fresh = coherentTiers({
        l1: memoryBackend({ maxEntries: 100 }),
        l2: new RedisBackend({ ...redisTarget(mode), namespace: ns }),
        redis: redisTarget(mode),
        maxStalenessMs: BOUND_MS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        onError: () => {},
      });
      opened.push(fresh);
      expect(fresh.trusted).toBe(false);
      const infos: ReadInfo[] = [{}, {}];
      const results = await fresh.getMany<string>(keys, infos);
      expect(results.map((r) => (r as CacheValue<string> | undefined)?.data)).toEqual(['one', undefined]);
      expect(infos.map((i) => i.source)).toEqual(['cache.redis', undefined]);
      expect(fresh.stats.bypassedReads).toBe(2);
    });

    it('setMany and deleteMany of A: B stops serving its memory copies within the bound (batched messages)', async () => {
      const ns = uniqueNamespace(`coh-batch-${mode}`);
      const a = await participant(mode, ns);
      const b = await participant(mode, ns);
      const keys = Array.from({ length: 300 }, (_, i) => key('app', i));
      expect(await a.setMany(keys.map((k) => ({ key: k, value: value('old') })))).toEqual(
        keys.map(() => undefined),
      );
      for (const k of [keys[0], keys[150], keys[299]] as CacheKey[]) await cacheIn(b, k, 'old');
      const published = a.stats.published;
      expect(await a.setMany(keys.map((k) => ({ key: k, value: value('new') })))).toEqual(
        keys.map(() => undefined),
      );
      // 300 keys: two messages (256 keys at most each), not 300.
      expect(a.stats.published - published).toBe(2);
      for (const k of [keys[0], keys[150], keys[299]] as CacheKey[]) await stopsServing(b, k, 'old');
      await cacheIn(b, keys[7] as CacheKey, 'new');
      await a.deleteMany(keys);
      await stopsServing(b, keys[7] as CacheKey, 'new');
      expect((await read(b, keys[7] as CacheKey)).data).toBeUndefined();
    });

    it('clearPrefix of A: Redis and every memory tier drop that prefix only, within the bound', async () => {
      const ns = uniqueNamespace(`coh-clear-${mode}`);
      const a = await participant(mode, ns);
      const b = await participant(mode, ns);
      const gone = key('tenant:1', 'x');
      const kept = key('tenant:2', 'x');
      await a.setMany([
        { key: gone, value: value('one') },
        { key: kept, value: value('two') },
      ]);
      await cacheIn(b, gone, 'one');
      await cacheIn(b, kept, 'two');
      await cacheIn(a, gone, 'one');
      await a.clearPrefix('tenant:1');
      expect((await read(a, gone)).data).toBeUndefined();
      await stopsServing(b, gone, 'one');
      expect(await read(b, kept)).toEqual({ data: 'two', source: 'cache.memory' });
      expect(await a.composition.l2.get(gone)).toBeUndefined();
    });

    it('clear of A: every entry of the namespace, in Redis and in every memory tier', async () => {
      const ns = uniqueNamespace(`coh-clear-${mode}`);
      const a = await participant(mode, ns);
      const b = await participant(mode, ns);
      const keys = [key('x', 1), key('y', 2)];
      await a.setMany(keys.map((k) => ({ key: k, value: value('here') })));
      for (const k of keys) await cacheIn(b, k, 'here');
      await a.clear();
      for (const k of keys) await stopsServing(b, k, 'here');
      expect((await b.getMany(keys)).every((r) => r === undefined)).toBe(true);
    });

    it('invalidateAll of A: memory copies dropped everywhere, Redis keeps the entries', async () => {
      const ns = uniqueNamespace(`coh-clear-${mode}`);
      const a = await participant(mode, ns);
      const b = await participant(mode, ns);
      const k = key('x', 1);
      await a.set(k, value('kept'));
      await cacheIn(b, k, 'kept');
      await cacheIn(a, k, 'kept');
      await a.invalidateAll();
      expect(await read(a, k)).toEqual({ data: 'kept', source: 'cache.redis' });
      const start = performance.now();
      for (;;) {
        const got = await read(b, k);
        expect(got.data).toBe('kept');
        if (got.source === 'cache.redis') break;
        if (performance.now() - start > BOUND_MS) throw new Error('B still serves its memory copy');
        await sleep(5);
      }
    });
  });
}

describe('coherent tiers: failures', () => {
  it('after close, setMany answers a CacheError in every position instead of rejecting', async () => {
    const errors: CoherenceErrorEvent[] = [];
    const a = await participant('single', uniqueNamespace('coh-fail'), errors);
    await a.close();
    const results = await a.setMany([{ key: key('x', 1), value: value(1) }]).catch((e: unknown) => e);
    expect(Array.isArray(results)).toBe(true);
    expect(CacheError.is((results as unknown[])[0])).toBe(true);
  });

  it('batched, prefix and "all" messages parse; a message of an unknown shape is refused', () => {
    expect(parseInvalidation('{"v":1,"from":"x","keys":[["p",0,"id","1"],["p",0,"id","2"]]}')).toMatchObject({
      kind: 'keys',
      keys: [{ prefix: 'p' }, { prefix: 'p' }],
    });
    expect(parseInvalidation('{"v":1,"from":"x","prefix":"tenant:1"}')).toEqual({
      kind: 'prefix',
      from: 'x',
      prefix: 'tenant:1',
    });
    expect(() => parseInvalidation('{"v":1,"from":"x","keys":"nope"}')).toThrow();
  });
});

describe('coherent tiers clear across processes', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  it('a clear in this process empties the child process memory tier; its clearPrefix empties ours', async () => {
    expect(existsSync(dist), 'build @cache/redis first').toBe(true);
    const ns = uniqueNamespace('coh-clear-process');
    const here = await participant('single', ns);
    const child = spawnChild(dist, ns);
    try {
      const keys = ['a', 'b', 'c'].map((id) => key('shared', id));
      await here.setMany(keys.map((k) => ({ key: k, value: value('v') })));
      for (const id of ['a', 'b', 'c']) {
        await child.ask({ op: 'get', id });
        expect(await child.ask({ op: 'get', id })).toEqual({ data: 'v', source: 'cache.memory' });
      }
      await here.clear();
      await sleep(BOUND_MS);
      for (const id of ['a', 'b', 'c']) expect(await child.ask({ op: 'get', id })).toEqual({});

      // The child writes and clears a prefix; this process's memory copies go.
      await child.ask({ op: 'setMany', ids: ['a', 'b'], data: 'child' });
      await cacheIn(here, keys[0] as CacheKey, 'child');
      await cacheIn(here, keys[1] as CacheKey, 'child');
      await child.ask({ op: 'clearPrefix', prefix: 'shared' });
      await stopsServing(here, keys[0] as CacheKey, 'child');
      await stopsServing(here, keys[1] as CacheKey, 'child');
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
    const key = (id) => new CacheKey('shared', 0, [{ name: 'id', value: id }]);
    const value = (data) => CacheValue.fromTtl(data, { ttlMs: 600000 });
    reply({ ready: true });
    for await (const line of createInterface({ input: process.stdin })) {
      const msg = JSON.parse(line);
      if (msg.op === 'get') {
        const info = {};
        const hit = await tiers.get(key(msg.id), info);
        reply(hit === undefined ? {} : { data: hit.data, source: info.source });
      } else if (msg.op === 'setMany') {
        await tiers.setMany(msg.ids.map((id) => ({ key: key(id), value: value(msg.data) })));
        reply({});
      } else if (msg.op === 'clearPrefix') { await tiers.clearPrefix(msg.prefix); reply({}); }
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
