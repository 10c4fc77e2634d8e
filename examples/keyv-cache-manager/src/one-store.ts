import { compose } from '@cache/core';
import { KeyvCacheStore } from '@cache/keyv';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';

/** One "process": its own memory tier in front of the shared Redis, under one Keyv store. */
function processCache(url: string, namespace: string) {
  const memory = memoryBackend({ maxEntries: 10_000 });
  const redis = new RedisBackend({ url, namespace, connectTimeoutMs: 2000 });
  const store = new KeyvCacheStore(compose(memory, redis));
  const cache = createCache({ stores: [new Keyv({ store, namespace: 'sessions' })], ttl: 60_000 });
  return { memory, redis, store, cache };
}

/**
 * The tiers under one Keyv: compose(memory, Redis) is itself a backend, so cache-manager sees one store and the
 * composition does the tiering (reads memory first, refills it from Redis, writes both). Two processes share Redis.
 */
export async function runOneStore(url: string, namespace: string): Promise<void> {
  const a = processCache(url, namespace);
  const b = processCache(url, namespace);
  try {
    await a.cache.mset([
      { key: 's1', value: 'alice' },
      { key: 's2', value: 'bob', ttl: 5_000 },
    ]);
    console.log(`  A: mset s1, s2 -> A's memory holds ${a.memory.size}, B's memory holds ${b.memory.size}`);
    console.log(`  B: mget s1, s2 -> ${JSON.stringify(await b.cache.mget(['s1', 's2']))} (from Redis)`);
    console.log(`  B's memory now holds ${b.memory.size} (refilled by the composition)`);
    const expires = await b.cache.ttl('s2');
    console.log(`  B: ttl s2 -> expires in ${Math.round(((expires ?? 0) - Date.now()) / 1000)} s`);
    await a.cache.clear(); // clearPrefix of the "sessions" namespace: A's memory and Redis
    const inRedis = await a.redis.get(a.store.cacheKey('sessions:s1'));
    console.log(`  A: clear -> A's memory holds ${a.memory.size}, Redis holds s1: ${inRedis !== undefined}`);
    console.log(
      "  (B's memory copy stays until its ttl: coherentTiers from @cache/redis invalidates it too)",
    );
  } finally {
    await a.redis.clearPrefix('');
    await a.cache.disconnect();
    await b.cache.disconnect();
  }
}
