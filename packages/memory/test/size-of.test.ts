import { CacheKey, CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { defaultSizeOf, ENTRY_OVERHEAD_BYTES, ESTIMATE_MAX_ITEMS, estimateSize } from '../src/index.js';

describe('estimateSize', () => {
  it('counts binary data by byte length and strings at two bytes per code unit', () => {
    expect(estimateSize(new Uint8Array(1_000))).toBe(1_000);
    expect(estimateSize(new Float64Array(10))).toBe(80);
    expect(estimateSize(new ArrayBuffer(7))).toBe(7);
    expect(estimateSize('héllo')).toBe(10);
    expect(estimateSize('')).toBe(0);
  });

  it('counts slots, property names and nested contents', () => {
    expect(estimateSize([1, 2])).toBe(2 * 8 + 2 * 8);
    expect(estimateSize({ ab: 'xyz' })).toBe(8 + 4 + 6);
    expect(estimateSize({ list: ['a'], when: new Date(0) })).toBe(8 + 8 + (8 + 2) + (8 + 8) + 16);
    expect(estimateSize(new Map([['k', 1]]))).toBe(16 + 2 + 8);
    expect(estimateSize(new Set(['ab']))).toBe(8 + 4);
    expect(estimateSize(null)).toBe(0);
    expect(estimateSize(true)).toBe(0);
  });

  it('grows with the data, so bigger values are charged more', () => {
    const small = { name: 'x', tags: ['a'] };
    const big = { name: 'x'.repeat(1_000), tags: Array.from({ length: 100 }, (_, i) => `tag${i}`) };
    expect(estimateSize(big)).toBeGreaterThan(estimateSize(small) + 2_000);
  });

  it('terminates on cycles and stops walking after its item budget', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(Number.isFinite(estimateSize(cyclic))).toBe(true);
    const huge = Array.from({ length: ESTIMATE_MAX_ITEMS * 4 }, () => ({ v: 'x' }));
    const size = estimateSize(huge);
    expect(size).toBeGreaterThanOrEqual(huge.length * 8); // every slot is counted, contents only up to the budget
  });
});

describe('defaultSizeOf', () => {
  it('adds the key and the fixed entry overhead to the data estimate', () => {
    const key = CacheKey.from({ user: '42' }, { prefix: 'p' });
    expect(defaultSizeOf(new CacheValue('abcd'), key)).toBe(
      8 + key.canonical.length * 2 + ENTRY_OVERHEAD_BYTES,
    );
  });
});
