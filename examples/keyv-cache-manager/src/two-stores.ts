import { KeyvCacheStore } from '@cache/keyv';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';

/**
 * cache-manager's own tiering: two Keyv stores, memory first, Redis second. cache-manager writes both and reads
 * them in order; Redis gets an absolute expiry from the ttl.
 */
export async function runTwoStores(url: string, namespace: string): Promise<void> {
  const memory = memoryBackend({ maxEntries: 10_000 });
  const redis = new RedisBackend({ url, namespace, connectTimeoutMs: 2000 });
  const l1 = new KeyvCacheStore(memory);
  const l2 = new KeyvCacheStore(redis);
  const cache = createCache({
    stores: [new Keyv({ store: l1 }), new Keyv({ store: l2 })],
    ttl: 60_000,
  });
  cache.on('get', (event) => {
    // cache-manager 7 passes the answering store's label, but its event type does not declare it.
    const { store } = event as { store?: string };
    if (store !== undefined) console.log(`  get ${event.key}: answered by the ${store} store`);
  });
  try {
    await cache.set('user:42', { id: 42, name: 'Ada' });
    const inRedis = await redis.get(l2.cacheKey('keyv:user:42'));
    console.log(`  set user:42 with ttl 60000 ms: memory holds ${memory.size} entry,`);
    console.log(
      `  Redis holds it with an absolute expiry ${Math.round(((inRedis?.expire ?? 0) - Date.now()) / 1000)} s away`,
    );
    console.log(`  get -> ${JSON.stringify(await cache.get('user:42'))}`);
    await memory.delete(l1.cacheKey('keyv:user:42')); // as after a restart: the memory tier is empty
    console.log('  the memory tier loses the entry (a restarted process):');
    console.log(`  get -> ${JSON.stringify(await cache.get('user:42'))}`);
    await redis.clearPrefix('');
  } finally {
    await cache.disconnect(); // closes both backends (closeOnDisconnect defaults to true)
  }
}
