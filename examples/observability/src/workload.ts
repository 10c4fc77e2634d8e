import type { Cache } from '@cache/cache';
import type { MemoryBackend } from '@cache/memory';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Values that go stale quickly (and are kept a minute), so a stale serve takes tens of milliseconds. */
const SHORT = { ttlMs: 40, graceMs: 60_000 } as const;

/**
 * The scripted traffic: misses that load, L1 hits, L2 hits (when there is an L2), a lookup of a key nobody has,
 * a stale value served while it refreshes in the background, and a loader failure that fail-safe covers.
 */
export async function runWorkload(cache: Cache, memory: MemoryBackend, hasL2: boolean): Promise<void> {
  const users = cache.namespace('users');
  const loadUser = async (id: string) => ({ id, name: `user ${id}` });
  // Three misses, each running the loader once.
  for (const id of ['1', '2', '3']) await users.getOrSet(id, () => loadUser(id));
  // Six L1 hits.
  for (let i = 0; i < 6; i++) await users.getOrSet(String((i % 3) + 1), () => loadUser('never'));
  // Two L2 hits: the memory tier forgets the key, Redis still has it (and refills memory).
  if (hasL2) {
    for (const id of ['1', '2']) {
      memory.delete(users.key(id));
      await users.getOrSet(id, () => loadUser('never'));
    }
  }
  // A get of a key nobody has: a miss, no loader.
  await users.get('404');

  // Two values that go stale in 40 ms.
  await cache.set('config', { flag: 1 }, SHORT);
  await cache.set('prices', { eur: 1 }, SHORT);
  await sleep(60);
  // Stale while revalidate: served at once, refreshed in the background; wait for the refresh to land.
  let refreshed!: () => void;
  const refresh = new Promise<void>((resolve) => {
    refreshed = resolve;
  });
  await cache.getOrSet(
    'config',
    async () => {
      refreshed();
      return { flag: 2 };
    },
    SHORT,
  );
  await refresh;
  // The loader fails: with the caller waiting (stalePolicy inline), fail-safe serves the stale value instead of
  // the error, then serves it again during the backoff without calling the loader.
  const failing = async (): Promise<{ eur: number }> => {
    throw new Error('pricing service down');
  };
  await cache.getOrSet('prices', failing, { ...SHORT, stalePolicy: 'inline' });
  await cache.getOrSet('prices', failing, { ...SHORT, stalePolicy: 'inline' });
  await sleep(20); // the refresh's write and the ends of the traces
}
