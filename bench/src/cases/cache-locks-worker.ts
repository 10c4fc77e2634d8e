/**
 * One process of the cross-process stampede (cache-locks.ts): a library's getOrSet over the shared Redis. Reads
 * its library and Redis URL from argv, prints `ready`, then for each line `{ "prefix", "callers" }` on stdin
 * issues 100 keys x `callers` at once (a 20 ms loader) and prints one JSON line with its loader calls, its callers'
 * latencies (ms) and the callers without the value. The line `exit` closes the client and ends the process.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jsonDocuments } from '../data/documents.js';
import { nowNs } from '../harness/timing-loops.js';

export const KEYS = 100;
export const CALLERS_PER_KEY = 250;
export const LOADER_MS = 20;
const TTL_MS = 3_600_000;

export type LockLibrary = 'ours' | 'ours-no-locks' | 'bentocache' | 'cache-manager';

interface Client {
  getOrSet(key: string, loader: () => Promise<unknown>): Promise<unknown>;
  /** Counters worth printing beside the figures (ours: lock waits, lock fallbacks, store errors). */
  counters?(): Record<string, number>;
  close(): Promise<void>;
}

async function client(library: LockLibrary, url: string, namespace: string): Promise<Client> {
  if (library === 'ours' || library === 'ours-no-locks') {
    const { createCache } = await import('@cache/cache');
    const { compose } = await import('@cache/core');
    const { memoryBackend } = await import('@cache/memory');
    const { RedisBackend, redisLocks } = await import('@cache/redis');
    const redis = new RedisBackend({ url, namespace });
    const locks = library === 'ours' ? redisLocks({ url, backend: redis }) : undefined;
    const cache = createCache({
      store: compose(memoryBackend({ maxEntries: 100_000 }), redis),
      ttlMs: TTL_MS,
      ...(locks === undefined ? {} : { locks }),
    });
    // Open the connections (and the lock store's notice subscription) before the first round.
    await cache.getOrSet('warm-up', () => 'warm');
    if (locks !== undefined) await locks.waitForRelease(cache.key('warm-up'), { timeoutMs: 1 });
    return {
      getOrSet: (key, loader) => cache.getOrSet(key, loader),
      counters: () => {
        const { lockWaits, lockFallbacks, storeErrors, collapsed } = cache.stats();
        return { lockWaits, lockFallbacks, storeErrors, collapsed };
      },
      close: () => cache.close(),
    };
  }
  if (library === 'bentocache') {
    const { BentoCache, bentostore } = await import('bentocache');
    const { memoryDriver } = await import('bentocache/drivers/memory');
    const { redisDriver } = await import('bentocache/drivers/redis');
    const parsed = new URL(url);
    const bento = new BentoCache({
      default: 'tiered',
      prefix: namespace,
      stores: {
        tiered: bentostore()
          .useL1Layer(memoryDriver({ maxItems: 100_000 }))
          .useL2Layer(
            redisDriver({ connection: { host: parsed.hostname, port: Number(parsed.port || 6379) } }),
          ),
      },
    });
    await bento.getOrSet({ key: 'warm-up', factory: () => 'warm', ttl: TTL_MS });
    return {
      getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader, ttl: TTL_MS }),
      close: () => bento.disconnectAll(),
    };
  }
  const { createCache } = await import('cache-manager');
  const { createKeyv } = await import('@keyv/redis');
  const { Keyv } = await import('keyv');
  const cache = createCache({ stores: [new Keyv(), createKeyv(url, { namespace })] });
  await cache.wrap('warm-up', async () => 'warm', TTL_MS);
  return {
    getOrSet: (key, loader) => cache.wrap(key, loader, TTL_MS),
    close: async () => {
      await cache.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const [library, url, namespace] = process.argv.slice(2) as [LockLibrary, string, string];
  const cache = await client(library, url, namespace);
  const docs = jsonDocuments(KEYS);
  let before: Record<string, number> = cache.counters?.() ?? {};
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'exit') break;
    const { prefix, callers } = JSON.parse(line) as { prefix: string; callers: number };
    let loaderCalls = 0;
    const loaders = docs.map(
      (doc) => () =>
        new Promise((resolve) => {
          loaderCalls++;
          setTimeout(() => resolve(doc), LOADER_MS);
        }),
    );
    const keys = docs.map((_, k) => `${prefix}:${k}`);
    const total = KEYS * callers;
    const latencies: number[] = new Array(total);
    let failed = 0;
    const calls: Promise<void>[] = new Array(total);
    for (let c = 0; c < total; c++) {
      const k = c % KEYS;
      const start = nowNs();
      calls[c] = cache.getOrSet(keys[k] as string, loaders[k] as () => Promise<unknown>).then(
        (value) => {
          latencies[c] = (nowNs() - start) / 1e6;
          // Values read back from Redis are copies: compare by the document's id.
          if ((value as { id?: number } | undefined)?.id !== docs[k]?.id) failed++;
        },
        () => {
          latencies[c] = (nowNs() - start) / 1e6;
          failed++;
        },
      );
    }
    await Promise.all(calls);
    // This round's counts: the counters minus those of the rounds before.
    const now = cache.counters?.();
    const counters =
      now === undefined
        ? undefined
        : Object.fromEntries(Object.entries(now).map(([name, n]) => [name, n - (before[name] ?? 0)]));
    before = now ?? {};
    process.stdout.write(`${JSON.stringify({ loaderCalls, failed, latencies, counters })}\n`);
  }
  await cache.close();
  process.exit(0);
}

// Only when run as a worker: cache-locks.ts imports this file for its constants.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
