import { CacheError } from '@cache/core';
import { expect } from 'vitest';

export const GIB = 1024 * 1024 * 1024;
export const MIB = 1024 * 1024;
/** Peak memory a failing bomb may add: a third of what it would expand to. */
export const MEMORY_BOUND = GIB / 3;

/**
 * Runs a decompression that must fail with DECOMPRESS_LIMIT and returns how much the process's peak resident
 * memory rose above the resident memory before it. The peak only grows, so this is an upper bound of what the
 * failure itself needed.
 */
export function peakGrowthOfFailure(run: () => unknown): number {
  const before = process.memoryUsage().rss;
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  expect(CacheError.is(thrown, 'DECOMPRESS_LIMIT'), String(thrown)).toBe(true);
  return Math.max(0, peak - before);
}
