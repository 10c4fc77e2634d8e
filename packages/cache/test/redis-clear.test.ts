// clear() of a namespace over real Redis (the shared standalone server of the test command), under a unique
// Redis namespace: memory + Redis tiers both lose the namespace's keys, its siblings keep theirs.
import { randomBytes } from 'node:crypto';
import { bitcode, CacheError, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../src/index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const closable of opened.splice(0)) await closable.close();
});

function redisBackend(options: { keyFormat?: typeof bitcode; namespace?: string } = {}) {
  const redis = new RedisBackend({
    url,
    namespace: `cache-clear:${randomBytes(4).toString('hex')}:`,
    ...options,
  });
  opened.push(redis);
  return redis;
}

describe('clear() over Redis', () => {
  it('removes the namespace and its children from memory and Redis; a sibling namespace keeps its keys', async () => {
    const redis = redisBackend();
    const memory = memoryBackend({ maxEntries: 100 });
    const cache = createCache({ store: compose(memory, redis), namespace: 'app' });
    const users = cache.namespace('users');
    const apple = createCache({
      store: compose(memoryBackend({ maxEntries: 100 }), redis),
      namespace: 'apple',
    });
    await users.set('u1', 1);
    await users.namespace('admins').set('a1', 2);
    await cache.set('root', 3);
    await apple.set('k', 4);
    await cache.clear();
    expect(memory.size).toBe(0);
    for (const key of [users.key('u1'), users.namespace('admins').key('a1'), cache.key('root')]) {
      expect(await redis.get(key)).toBeUndefined();
    }
    expect((await redis.get(apple.key('k')))?.data).toBe(4);
  });

  it('refuses what it cannot do: another key format, or every entry without a namespace', async () => {
    const cache = createCache({ store: redisBackend({ keyFormat: bitcode }), namespace: 'app' });
    const error = await cache.clear().catch((e: unknown) => e);
    expect(CacheError.is(error, 'INVALID_OPTIONS')).toBe(true);
    const bare = createCache({ store: redisBackend({ namespace: '' }) });
    expect(CacheError.is(await bare.clear().catch((e: unknown) => e), 'INVALID_OPTIONS')).toBe(true);
  });
});
