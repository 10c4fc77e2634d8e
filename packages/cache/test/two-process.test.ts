// Two processes sharing one Redis: this test process and a child Node process (the built package, dist/), each
// with its own memory tier. Process A invalidates a tag: process B never serves the old entry afterwards, not
// fresh, not stale, not as a fail-safe value (under coherentTiers at once for a first invalidation and within
// the coherence bound for a later one; with plain tiers within tagCacheMs). A clear() in one process empties
// the other's memory tier (coherentTiers broadcast). Needs the shared standalone Redis (REDIS_URL).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type CacheBackend, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { coherentTiers, RedisBackend } from '@cache/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const MAX_STALENESS_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

type Mode = 'coherent' | 'plain';
interface Setup {
  readonly mode: Mode;
  readonly namespace: string;
  readonly tagCacheMs: number;
}

/** The cache options both processes use: short freshness, long grace, so old entries are stale-servable. */
const CACHE_OPTIONS = { namespace: 'app', ttlMs: 300, graceMs: 60_000, fallbackTtlMs: 0 } as const;

/** This process's side: the same configuration the child builds. */
async function here(setup: Setup) {
  const redis = new RedisBackend({ url: REDIS_URL, namespace: setup.namespace });
  const l1 = memoryBackend({ maxEntries: 1_000 });
  let store: CacheBackend;
  if (setup.mode === 'coherent') {
    const tiers = coherentTiers({
      l1,
      l2: redis,
      redis: { url: REDIS_URL },
      maxStalenessMs: MAX_STALENESS_MS,
      heartbeatIntervalMs: 300,
    });
    await tiers.whenTrusted(10_000);
    store = tiers;
  } else {
    store = compose(l1, redis);
  }
  const work: Promise<unknown>[] = [];
  const cache = createCache({
    store,
    tagCacheMs: setup.tagCacheMs,
    waitUntil: (w) => work.push(w),
    ...CACHE_OPTIONS,
  });
  cleanups.push(async () => {
    await redis.clearPrefix('').catch(() => undefined);
    await cache.close();
  });
  return { cache, l1, flush: () => Promise.all(work.splice(0)).then(() => undefined) };
}

/** The child process: the same cache over its own memory tier, driven by JSON lines. */
function child(setup: Setup) {
  const script = `
    import { createInterface } from 'node:readline';
    import { compose } from '@cache/core';
    import { memoryBackend } from '@cache/memory';
    import { coherentTiers, RedisBackend } from '@cache/redis';
    const { createCache } = await import(${JSON.stringify(DIST)});
    const setup = ${JSON.stringify(setup)};
    const url = ${JSON.stringify(REDIS_URL)};
    const redis = new RedisBackend({ url, namespace: setup.namespace });
    const l1 = memoryBackend({ maxEntries: 1000 });
    let store;
    if (setup.mode === 'coherent') {
      store = coherentTiers({ l1, l2: redis, redis: { url }, maxStalenessMs: ${MAX_STALENESS_MS}, heartbeatIntervalMs: 300 });
      await store.whenTrusted(10000);
    } else store = compose(l1, redis);
    const work = [];
    const cache = createCache({ store, tagCacheMs: setup.tagCacheMs, waitUntil: (w) => work.push(w),
      ...${JSON.stringify(CACHE_OPTIONS)} });
    const reply = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    reply({ ready: true });
    for await (const line of createInterface({ input: process.stdin })) {
      const m = JSON.parse(line);
      try {
        if (m.op === 'getOrSet') {
          const value = await cache.getOrSet(m.key, async () => {
            if (m.fail) throw new Error('database down');
            return m.value;
          }, { tags: m.tags, stalePolicy: m.stalePolicy });
          reply({ value });
        } else if (m.op === 'get') reply({ value: await cache.get(m.key, { allowStale: m.allowStale }) });
        else if (m.op === 'invalidate') { await cache.invalidateTags(m.tags); reply({}); }
        else if (m.op === 'set') { await cache.set(m.key, m.value, { tags: m.tags }); reply({}); }
        else if (m.op === 'l1') reply({ has: l1.get(cache.key(m.key)) !== undefined });
        else if (m.op === 'flush') { await Promise.all(work.splice(0)); reply({}); }
        else if (m.op === 'close') { await cache.close(); reply({}); break; }
      } catch (error) { reply({ error: error.code ?? String(error) }); }
    }
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the child process ended');
    return JSON.parse(value) as Record<string, unknown>;
  };
  const ready = next();
  const remote = {
    async ask(message: Record<string, unknown>): Promise<Record<string, unknown>> {
      await ready;
      proc.stdin.write(`${JSON.stringify(message)}\n`);
      return next();
    },
  };
  cleanups.push(async () => {
    await remote.ask({ op: 'close' }).catch(() => undefined);
    proc.stdin.end();
    if (proc.exitCode === null) proc.kill();
  });
  return remote;
}

/** B (the child) must not serve the old value in any way: fresh, stale, revalidate or fail-safe. */
async function expectGoneIn(b: ReturnType<typeof child>, key: string) {
  expect(await b.ask({ op: 'get', key, allowStale: true })).toEqual({});
  for (const stalePolicy of ['revalidate', 'inline', 'return']) {
    expect(await b.ask({ op: 'getOrSet', key, fail: true, tags: ['t'], stalePolicy })).toEqual({
      error: 'LOADER_FAILED',
    });
  }
}

/** Polls `check` until it is true, for at most `ms` (a hang guard, not a measurement). */
async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await sleep(20);
  }
}

describe('two processes sharing Redis', () => {
  it.each<[Mode, number]>([
    ['coherent', 60_000],
    ['plain', 0],
    ['plain', 300],
  ])(
    '%s tiers (tagCacheMs %i): after A invalidates a tag, B never serves the old entry, stale or fail-safe',
    async (mode, tagCacheMs) => {
      expect(existsSync(DIST), 'build @cache/cache first (pnpm exec tsc -p tsconfig.build.json)').toBe(true);
      const setup: Setup = { mode, tagCacheMs, namespace: `cache-2p:${randomBytes(4).toString('hex')}:` };
      const a = await here(setup);
      const b = child(setup);
      // B loads and stores the entry; A reads it (A's memory tier holds it too); B's memory tier holds it.
      expect(await b.ask({ op: 'getOrSet', key: 'k', value: 'v1', tags: ['t'] })).toEqual({ value: 'v1' });
      await b.ask({ op: 'flush' });
      expect(await a.cache.get('k')).toBe('v1');
      expect(await b.ask({ op: 'l1', key: 'k' })).toEqual({ has: true });
      await sleep(350); // stale now, within grace: the case bentocache #71 served
      expect(await b.ask({ op: 'get', key: 'k', allowStale: true })).toEqual({ value: 'v1' });
      await a.cache.invalidateTags(['t']);
      if (mode === 'plain' && tagCacheMs > 0) {
        // B trusts the instants it read (none yet) for tagCacheMs: it stops within that bound.
        await within(tagCacheMs + 1_000, async () => {
          const answer = await b.ask({ op: 'get', key: 'k', allowStale: true });
          return answer.value === undefined;
        });
      }
      await expectGoneIn(b, 'k');

      // A later invalidation of the same tag, after B trusted the tag's first instant: within the bound.
      expect(await b.ask({ op: 'getOrSet', key: 'k', value: 'v2', tags: ['t'] })).toEqual({ value: 'v2' });
      await b.ask({ op: 'flush' });
      expect(await b.ask({ op: 'get', key: 'k' })).toEqual({ value: 'v2' });
      await sleep(350);
      await a.cache.invalidateTags(['t']);
      await within(mode === 'coherent' ? MAX_STALENESS_MS * 2 : tagCacheMs + 1_000, async () => {
        const answer = await b.ask({ op: 'get', key: 'k', allowStale: true });
        return answer.value === undefined;
      });
      await expectGoneIn(b, 'k');
    },
    30_000,
  );

  it('clear() in A empties B memory tier too (coherentTiers broadcast), and Redis', async () => {
    expect(existsSync(DIST), 'build @cache/cache first (pnpm exec tsc -p tsconfig.build.json)').toBe(true);
    const setup: Setup = {
      mode: 'coherent',
      tagCacheMs: 1_000,
      namespace: `cache-2p:${randomBytes(4).toString('hex')}:`,
    };
    const a = await here(setup);
    const b = child(setup);
    await b.ask({ op: 'set', key: 'x', value: 1 });
    await b.ask({ op: 'set', key: 'y', value: 2 });
    expect(await b.ask({ op: 'l1', key: 'x' })).toEqual({ has: true });
    await a.cache.set('z', 'from-a');
    await a.cache.clear();
    expect(a.l1.size).toBe(0);
    await within(MAX_STALENESS_MS * 2, async () => (await b.ask({ op: 'l1', key: 'x' })).has === false);
    expect(await b.ask({ op: 'l1', key: 'y' })).toEqual({ has: false });
    expect(await b.ask({ op: 'get', key: 'z' })).toEqual({});
    expect(await a.cache.get('x')).toBeUndefined();
  }, 30_000);
});
