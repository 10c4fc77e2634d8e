// One loader per key across caches that share a store and a lock store (each cache stands for a process: it has
// its own in-process flights). memoryLocks() is the lock store here; the same cases over Redis, with real child
// processes, are in locks-redis.test.ts and locks-processes.test.ts.
import {
  type AcquireOptions,
  type CacheBackend,
  CacheError,
  type CacheKey,
  faulty,
  type Lease,
  type LockStore,
  type MemoryLocks,
  memoryLocks,
  type WaitOptions,
} from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { describe, expect, it } from 'vitest';
import { type CacheEvent, createCache } from '../src/index.js';

/** `count` caches ("processes") over one shared store and one lock store. */
function processes(
  count: number,
  locks: LockStore,
  store: CacheBackend = memoryBackend({ maxEntries: 10_000 }),
) {
  const events: CacheEvent[] = [];
  const caches = Array.from({ length: count }, () =>
    createCache({ store, locks, onEvent: (event) => events.push(event), ttlMs: 60_000 }),
  );
  return { caches, store, events };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** A loader that counts calls per key and answers once `gate` opens (at once when there is none). */
function countingLoader(gate?: Promise<void>) {
  const calls = new Map<string, number>();
  const loader = async (ctx: { key: CacheKey }) => {
    calls.set(ctx.key.canonical, (calls.get(ctx.key.canonical) ?? 0) + 1);
    await (gate ?? tick(5));
    return `value of ${ctx.key.canonical}`;
  };
  return { loader, calls };
}

function opened() {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { gate, open };
}

/** Resolves once `locks` holds no lease: the lock was released (a leak would hold it until the hang guard). */
async function allReleased(locks: MemoryLocks): Promise<void> {
  while (locks.size > 0) await tick(1);
}

describe('createCache({ locks })', () => {
  it('4 caches × 50 callers on 20 cold keys: one loader call per key, every caller gets the value', async () => {
    const locks = memoryLocks({ pollMs: 50 });
    const { caches } = processes(4, locks);
    const { loader, calls } = countingLoader();
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const answers = await Promise.all(
      caches.flatMap((cache) =>
        keys.flatMap((key) =>
          Array.from({ length: 50 }, () => cache.getOrSet(key, loader).then((v) => [key, v])),
        ),
      ),
    );
    for (const [key, value] of answers)
      expect(value).toBe(`value of ${caches[0]?.key(key as string).canonical}`);
    expect([...calls.values()]).toEqual(keys.map(() => 1));
    expect(caches.reduce((sum, cache) => sum + cache.stats().lockWaits, 0)).toBeGreaterThan(0);
    await allReleased(locks);
    await caches[0]?.close();
  });

  it('the lease is released after a skipped load (FusionCache #644): the next process loads at once', async () => {
    const locks = memoryLocks({ pollMs: 60_000, leaseMs: 60_000 });
    const { caches } = processes(2, locks);
    const [a, b] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>];
    expect(
      await a.getOrSet('skipped', (ctx) => {
        ctx.skip();
        return 'not stored';
      }),
    ).toBe('not stored');
    await allReleased(locks);
    // With the lock leaked, b would wait for the 60 s lease and the poll: past the test's timeout.
    expect(await b.getOrSet('skipped', () => 'loaded by b')).toBe('loaded by b');
    await a.close();
  });

  it('the lease is released when the cache write fails (FusionCache #646)', async () => {
    const locks = memoryLocks({ pollMs: 60_000, leaseMs: 60_000 });
    const store = faulty(memoryBackend({ maxEntries: 100 }) as CacheBackend);
    store.inject({ kind: 'fail', error: new CacheError('CONNECTION', 'write refused'), times: 1 }, ['set']);
    const { caches, events } = processes(2, locks, store);
    const [a, b] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>];
    expect(await a.getOrSet('unwritten', () => 'loaded by a')).toBe('loaded by a');
    await allReleased(locks);
    expect(events.some((e) => e.type === 'store-error' && e.operation === 'set')).toBe(true);
    expect(await b.getOrSet('unwritten', () => 'loaded by b')).toBe('loaded by b');
    await a.close();
  });

  it('the lease is released when the write throws synchronously (a memory tier that fails)', async () => {
    const locks = memoryLocks({ pollMs: 60_000, leaseMs: 60_000 });
    const store = faulty(memoryBackend({ maxEntries: 100 }) as CacheBackend);
    store.inject({ kind: 'fail', error: new CacheError('BACKEND', 'full'), sync: true, times: 1 }, ['set']);
    const { caches } = processes(1, locks, store);
    expect(await caches[0]?.getOrSet('sync-fail', () => 'v')).toBe('v');
    await allReleased(locks);
    await caches[0]?.close();
  });

  it('the lease is released when the loader fails, times out, is superseded, or the cache closes', async () => {
    const locks = memoryLocks({ pollMs: 60_000, leaseMs: 60_000 });
    const { caches } = processes(1, locks);
    const cache = caches[0] as ReturnType<typeof createCache>;
    await expect(
      cache.getOrSet('fails', () => {
        throw new Error('database down');
      }),
    ).rejects.toMatchObject({ code: 'LOADER_FAILED' });
    await allReleased(locks);
    await expect(
      cache.getOrSet('slow', () => new Promise(() => undefined), { hardTimeoutMs: 20 }),
    ).rejects.toMatchObject({
      code: 'LOADER_TIMEOUT',
    });
    await allReleased(locks);
    const { gate, open } = opened();
    const running = cache.getOrSet('superseded', () => gate.then(() => 'old'));
    await tick(5);
    expect(locks.size).toBe(1);
    await cache.set('superseded', 'newer');
    open();
    await running;
    await allReleased(locks);
    expect(await cache.get('superseded')).toBe('newer');
    const hung = cache.getOrSet('closing', () => new Promise(() => undefined));
    await tick(5);
    expect(locks.size).toBe(1);
    await cache.close();
    await expect(hung).rejects.toMatchObject({ code: 'CLOSED' });
    expect(locks.size).toBe(0);
  });

  it('the lease is renewed while a loader slower than the lease runs: nobody else loads meanwhile', async () => {
    const locks = memoryLocks({ pollMs: 10, leaseMs: 30 });
    const { caches } = processes(2, locks);
    const [a, b] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>];
    const { gate, open } = opened();
    const { loader, calls } = countingLoader(gate);
    const first = a.getOrSet('slow', loader);
    await tick(5);
    const second = b.getOrSet('slow', loader);
    await tick(200); // more than six leases: without renewal, b would have taken the key and loaded
    expect([...calls.values()]).toEqual([1]);
    open();
    expect(await Promise.all([first, second])).toEqual([
      `value of ${a.key('slow').canonical}`,
      `value of ${a.key('slow').canonical}`,
    ]);
    expect([...calls.values()]).toEqual([1]);
    await allReleased(locks);
    await a.close();
  });

  it('a stale value is served at once while another process holds the lock (default); inline callers wait', async () => {
    const locks = memoryLocks({ pollMs: 10 });
    const store = memoryBackend({ maxEntries: 100 });
    const { caches } = processes(2, locks, store);
    const [a, b] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>];
    await a.set('stale', 'old', { ttlMs: 1, graceMs: 60_000 });
    await tick(5);
    const { gate, open } = opened();
    const leaderRun = a.getOrSet('stale', () => gate.then(() => 'new'), { stalePolicy: 'inline' });
    await tick(5);
    expect(locks.size).toBe(1);
    expect(await b.getOrSet('stale', () => 'b loaded')).toBe('old'); // revalidate: served at once
    let waited: string | undefined;
    const inline = b
      .getOrSet('stale', () => 'b loaded', { stalePolicy: 'inline' })
      .then((v) => {
        waited = v;
      });
    await tick(30);
    expect(waited).toBeUndefined();
    open();
    await Promise.all([leaderRun, inline]);
    expect(waited).toBe('new');
    await a.close();
  });

  it('a lock store that fails: the loader runs under the in-process lock, reported, never failing the call', async () => {
    const failing: LockStore = {
      label: 'sick-locks',
      leaseMs: 1000,
      pollMs: 1000,
      acquire: (_key: CacheKey, _options?: AcquireOptions) =>
        Promise.reject(new CacheError('CIRCUIT_OPEN', 'lock store breaker open')),
      renew: (_lease: Lease) => Promise.resolve(false),
      release: (_lease: Lease) => Promise.resolve(false),
      waitForRelease: (_key: CacheKey, _options: WaitOptions) => Promise.resolve(),
    };
    const { caches, events } = processes(1, failing);
    const cache = caches[0] as ReturnType<typeof createCache>;
    const { loader, calls } = countingLoader();
    const values = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('k', loader)));
    expect(new Set(values).size).toBe(1);
    expect([...calls.values()]).toEqual([1]); // the in-process lock still holds
    expect(cache.stats().lockFallbacks).toBe(1);
    const reported = events.filter((e) => e.type === 'lock-error');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ operation: 'acquire', error: { code: 'CIRCUIT_OPEN' } });
    await cache.close();
  });

  it('a hit takes no lock', async () => {
    let acquired = 0;
    const locks = memoryLocks();
    const counting: LockStore = {
      label: locks.label,
      leaseMs: locks.leaseMs,
      pollMs: locks.pollMs,
      acquire: (key, options) => {
        acquired++;
        return locks.acquire(key, options);
      },
      renew: (lease) => locks.renew(lease),
      release: (lease) => locks.release(lease),
      waitForRelease: (key, options) => locks.waitForRelease(key, options),
    };
    const { caches } = processes(1, counting);
    const cache = caches[0] as ReturnType<typeof createCache>;
    await cache.getOrSet('hot', () => 'v');
    for (let i = 0; i < 100; i++) await cache.getOrSet('hot', () => 'never');
    expect(acquired).toBe(1);
    await cache.close();
  });

  it('rejects a locks option that is not a LockStore', () => {
    expect(() => createCache({ store: memoryBackend({ maxEntries: 10 }), locks: {} as LockStore })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
