import { CacheError, type CacheKey, CacheValue, type ReadInfo } from '@cache/core';
import { expect } from 'vitest';
import type { CoherentTiers } from '../src/index.js';
import { sleep } from './helpers.js';

/** A value that outlives every test: expiry never explains a miss. */
export const value = (data: unknown): CacheValue<unknown> => CacheValue.fromTtl(data, { ttlMs: 600_000 });

/** Reads `key` through `tiers` and returns the data and where it came from. */
export async function read(tiers: CoherentTiers, key: CacheKey): Promise<{ data: unknown; source?: string }> {
  const info: ReadInfo = {};
  const hit = await tiers.get(key, info);
  return { data: hit?.data, ...(info.source === undefined ? {} : { source: info.source }) };
}

/**
 * Reads `key` until `tiers` serves it from memory. The first read may not be copied into memory when an
 * invalidation of the key arrives while it is in flight (the refill guard drops such reads), so it retries.
 */
export async function cacheIn(tiers: CoherentTiers, key: CacheKey, expected: unknown): Promise<void> {
  for (let tries = 0; tries < 20; tries++) {
    const got = await read(tiers, key);
    expect(got.data).toEqual(expected);
    if (got.source === 'cache.memory') return;
    await sleep(10);
  }
  throw new Error('the key never reached the memory tier');
}

/** How {@link stopsServing} polls. */
export interface StopsServingOptions {
  /** Fail when the old data is still served this many ms after the call. */
  readonly limitMs: number;
  /**
   * Count a read that fails with a CacheError as serving nothing (Redis still reconnecting in a fault test)
   * instead of failing the test.
   * @default false
   */
  readonly readErrorsServeNothing?: boolean;
}

/**
 * Polls until `tiers` no longer returns `old` for `key` and returns how long that took, measured from the call
 * (which follows the writer's resolved `set`/`delete`). Fails when the old data is still served past the limit.
 */
export async function stopsServing(
  tiers: CoherentTiers,
  key: CacheKey,
  old: unknown,
  options: StopsServingOptions,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    let data: unknown;
    try {
      data = (await read(tiers, key)).data;
    } catch (error) {
      if (!options.readErrorsServeNothing || !CacheError.is(error)) throw error;
      data = error;
    }
    const elapsed = performance.now() - start;
    if (JSON.stringify(data) !== JSON.stringify(old)) return elapsed;
    if (elapsed > options.limitMs) {
      throw new Error(`still served the old copy ${Math.round(elapsed)} ms after the write`);
    }
    await sleep(1);
  }
}
