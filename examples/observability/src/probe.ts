import { CacheError, CacheKey } from '@cache/core';
import { RedisBackend } from '@cache/redis';

/** How long the service waits for Redis before running on its memory tier alone. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Asks Redis for one key under a short deadline, with no retries, so nothing keeps running. Resolves with the
 * reason Redis cannot be used, or `undefined` when it answered.
 */
export async function probeRedis(url: string): Promise<string | undefined> {
  const reason = (error: unknown) =>
    CacheError.is(error) ? `${error.code}: ${error.message}` : String(error);
  let probe: RedisBackend;
  try {
    probe = new RedisBackend({
      url,
      namespace: 'cache-examples:observability:probe:',
      connectTimeoutMs: PROBE_TIMEOUT_MS,
      responseTimeoutMs: PROBE_TIMEOUT_MS,
      reconnect: { retries: 0 },
    });
  } catch (error) {
    return reason(error);
  }
  try {
    await probe.get(CacheKey.of('probe'));
    return undefined;
  } catch (error) {
    return reason(error);
  } finally {
    await probe.close();
  }
}
