import { CacheKey, CacheValue, type ReadInfo } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { type CoherentTiers, coherentTiers, RedisBackend } from '@cache/redis';
import { duration, medianMicros, nsPerOp } from './timing.js';

interface User {
  name: string;
  plan: 'free' | 'pro';
}

const KEYS = 300;
const ttl = { ttlMs: 600_000 };

/** One "process": its own memory tier in front of the shared Redis, kept coherent with the others. */
function tiersFor(url: string, namespace: string): CoherentTiers {
  return coherentTiers({
    l1: memoryBackend({ maxEntries: 10_000 }),
    l2: new RedisBackend({ url, namespace, connectTimeoutMs: 2000 }),
    redis: { url, connectTimeoutMs: 2000 },
    onError: (event) => console.warn(`   (coherence ${event.operation}: ${event.error.message})`),
  });
}

async function readWhere(tiers: CoherentTiers, key: CacheKey): Promise<string> {
  const info: ReadInfo = {};
  const hit = await tiers.get<User>(key, info);
  return hit === undefined ? 'miss' : `${hit.data.name} (${hit.data.plan}) from "${info.source}"`;
}

/**
 * Waits until `tiers` has applied `count` invalidations from others. A read of a key whose invalidation arrives
 * while the read is in flight is not copied into memory (it might be older than the change), so the demo lets
 * messages land before showing refills.
 */
async function applied(tiers: CoherentTiers, count: number): Promise<void> {
  while (tiers.stats.received < count) await new Promise((r) => setTimeout(r, 1));
}

/** Polls `tiers` until `done` holds for the value it serves; returns the milliseconds it took. */
async function until(tiers: CoherentTiers, key: CacheKey, done: (data: User | undefined) => boolean) {
  const start = performance.now();
  while (!done((await tiers.get<User>(key))?.data)) await new Promise((r) => setTimeout(r, 1));
  return performance.now() - start;
}

/** The tiered demo: two "processes" (A and B, each with its own memory tier) sharing one Redis. */
export async function runWithRedis(url: string, namespace: string): Promise<void> {
  const a = tiersFor(url, namespace);
  const b = tiersFor(url, namespace);
  try {
    await Promise.all([a.whenTrusted(5000), b.whenTrusted(5000)]);
    const ada = CacheKey.from({ user: '42' }, { prefix: 'demo' });

    console.log('\n1. What hits where (the label path in ReadInfo.source)');
    await a.set(ada, CacheValue.fromTtl<User>({ name: 'Ada', plan: 'pro' }, ttl));
    await applied(b, 1);
    console.log(`   A set user 42 (memory + Redis + one invalidation message)`);
    console.log(`   A get: ${await readWhere(a, ada)}`);
    console.log(`   B get: ${await readWhere(b, ada)}   <- B's memory was cold: Redis answered, B refilled`);
    console.log(`   B get: ${await readWhere(b, ada)}`);
    console.log(`   B get user 7: ${await readWhere(b, CacheKey.from({ user: '7' }, { prefix: 'demo' }))}`);

    console.log(`\n2. How long each tier takes (${KEYS} keys, one call at a time)`);
    const keys = Array.from({ length: KEYS }, (_, i) =>
      CacheKey.from({ item: String(i) }, { prefix: 'demo' }),
    );
    const value = CacheValue.fromTtl<User>({ name: 'Item', plan: 'free' }, ttl);
    const set = await medianMicros(keys, (key) => a.set(key, value));
    await applied(b, 1 + KEYS);
    const refill = await medianMicros(keys, async (key) => b.get(key));
    const l1 = nsPerOp(200_000, (i) => b.get(keys[i % KEYS] as CacheKey));
    const far = b.composition.l2 as RedisBackend;
    const redisOnly = await medianMicros(keys, (key) => far.get(key));
    const miss = await medianMicros(
      keys.map((key) => key.with({ version: 9 })),
      async (key) => b.get(key),
    );
    console.log(`   memory hit (L1)              ${duration(l1 / 1000).padStart(10)}   mean, synchronous`);
    console.log(`   Redis hit, refilled into L1  ${duration(refill).padStart(10)}   median`);
    console.log(`   Redis get alone              ${duration(redisOnly).padStart(10)}   median`);
    console.log(`   miss in both tiers           ${duration(miss).padStart(10)}   median`);
    console.log(`   set (L1 + Redis + publish)   ${duration(set).padStart(10)}   median`);

    console.log('\n3. Coherence: A and B both hold user 42 in memory; A changes it, then B deletes it');
    await until(b, ada, (data) => data?.name === 'Ada');
    console.log(`   B get: ${await readWhere(b, ada)}`);
    await a.set(ada, CacheValue.fromTtl<User>({ name: 'Ada', plan: 'free' }, ttl));
    const seen = await until(b, ada, (data) => data?.plan === 'free');
    console.log(`   A set plan=free; B stopped serving its old copy after ${seen.toFixed(1)} ms`);
    console.log(`   B get: ${await readWhere(b, ada)}`);
    await b.delete(ada);
    const gone = await until(a, ada, (data) => data === undefined);
    console.log(`   B deleted user 42; A missed after ${gone.toFixed(1)} ms`);
    const bound = a.settings.maxStalenessMs;
    console.log(
      `   The bound: another process's change stops being served within ${bound} ms, even when messages are` +
        `\n   lost (a heartbeat every ${a.settings.heartbeatIntervalMs} ms proves the channel; without it, reads skip memory).`,
    );
    const stats = b.stats;
    console.log(
      `   B's counters: ${stats.received} invalidations received, ${stats.ownIgnored} own ignored, ` +
        `${stats.bypassedReads} reads that skipped memory, ${stats.clears} memory clear(s)`,
    );
  } finally {
    // Our keys only: everything this run wrote is under its own namespace.
    await (a.composition.l2 as RedisBackend).clear().catch(() => undefined);
    await Promise.all([a.close(), b.close()]);
  }
}
