import { CacheError, CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { type MemoryBackendOptions, memoryBackend } from '../src/index.js';
import { key } from './helpers.js';

function optionsError(options: unknown): CacheError {
  try {
    memoryBackend(options as MemoryBackendOptions);
  } catch (error) {
    if (CacheError.is(error, 'INVALID_OPTIONS')) return error;
    throw error;
  }
  throw new Error('memoryBackend accepted the options');
}

describe('options', () => {
  it('requires a bound', () => {
    expect(optionsError(undefined).message).toMatch(/maxEntries/);
    expect(optionsError({}).message).toMatch(/maxEntries, maxBytes/);
    expect(optionsError({ label: 'l1' }).message).toMatch(/bound/);
  });

  it.each([
    [{ maxEntries: 0 }, /maxEntries must be a positive integer/],
    [{ maxEntries: -5 }, /maxEntries/],
    [{ maxEntries: 1.5 }, /maxEntries/],
    [{ maxEntries: Number.POSITIVE_INFINITY }, /maxEntries/],
    [{ maxEntries: '10' }, /maxEntries/],
    [{ maxBytes: 0 }, /maxBytes must be a positive integer/],
    [{ maxBytes: Number.NaN }, /maxBytes/],
    [{ maxEntries: 10, maxBytes: -1 }, /maxBytes/],
    [{ maxEntries: 10, sizeOf: () => 1 }, /sizeOf has no effect without maxBytes/],
    [{ maxBytes: 10, sizeOf: 5 }, /sizeOf must be a function/],
    [{ maxEntries: 10, clone: 'yes' }, /clone must be a boolean/],
    [{ maxEntries: 10, label: '' }, /label must be a non-empty string/],
    [{ maxEntries: 10, now: 5 }, /now must be a function/],
  ])('rejects %o', (options, message) => {
    const error = optionsError(options);
    expect(error.message).toMatch(message);
    expect(error.name).toBe('CacheError');
  });

  it('accepts either bound or both, with defaults for the rest', () => {
    for (const options of [{ maxEntries: 1 }, { maxBytes: 1 }, { maxEntries: 5, maxBytes: 1_000_000 }]) {
      const memory = memoryBackend(options);
      expect(memory.label).toBe('memory');
      expect(memory.capabilities).toEqual({ expiryPrecisionMs: 0, losslessKeys: true });
    }
  });

  it('uses the given clock instead of Date.now', () => {
    const memory = memoryBackend({ maxEntries: 5, now: () => 0 });
    memory.set(key('past'), new CacheValue('past', 10)); // long expired for Date.now, not for this clock
    expect(memory.get(key('past'))?.data).toBe('past');
  });
});
