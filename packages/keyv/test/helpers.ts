import { randomBytes } from 'node:crypto';
import { RedisBackend } from '@cache/redis';

/** The shared test Redis of the test command. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';

/** A RedisBackend under a namespace of its own for this run; `drop()` clears it and closes the connection. */
export function scratchRedis(label = 'redis'): { redis: RedisBackend; drop(): Promise<void> } {
  const redis = new RedisBackend({
    url: redisUrl,
    label,
    namespace: `cache-keyv-test:${randomBytes(6).toString('hex')}:`,
  });
  return {
    redis,
    async drop() {
      try {
        await redis.clearPrefix('');
      } finally {
        await redis.close();
      }
    },
  };
}
