import { CacheError, CacheKey } from '@cache/core';
import { RedisBackend } from '@cache/redis';

/** How long the demo waits for Redis before running on the memory tier alone. */
export const PROBE_TIMEOUT_MS = 1000;

/**
 * Asks Redis for one key under a short deadline. Resolves with the reason Redis cannot be used, or `undefined`
 * when it answered. The probe backend never retries in the background, so nothing is left running.
 */
export async function probeRedis(url: string, namespace: string): Promise<string | undefined> {
  let probe: RedisBackend;
  try {
    probe = new RedisBackend({
      url,
      namespace,
      connectTimeoutMs: PROBE_TIMEOUT_MS,
      responseTimeoutMs: PROBE_TIMEOUT_MS,
      reconnect: { retries: 0 },
    });
  } catch (error) {
    return CacheError.is(error) ? `${error.code}: ${error.message}` : String(error);
  }
  try {
    await probe.get(CacheKey.of('probe'));
    return undefined;
  } catch (error) {
    return CacheError.is(error) ? `${error.code}: ${error.message}` : String(error);
  } finally {
    await probe.close();
  }
}
