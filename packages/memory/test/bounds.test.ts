import { CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';
import { key } from './helpers.js';

describe('maxEntries', () => {
  it('evicts so the entry count never exceeds the bound', () => {
    const memory = memoryBackend({ maxEntries: 50 });
    for (let i = 0; i < 1_000; i++) {
      memory.set(key(i), new CacheValue(i));
      expect(memory.size).toBeLessThanOrEqual(50);
    }
    expect(memory.size).toBe(50);
    let held = 0;
    for (let i = 0; i < 1_000; i++) if (memory.get(key(i)) !== undefined) held++;
    expect(held).toBe(50);
  });

  it('keeps the value just written, even at capacity 1', () => {
    const memory = memoryBackend({ maxEntries: 1 });
    memory.set(key(1), new CacheValue('one'));
    memory.get(key(1)); // visited: the hand must still evict it for the next key
    memory.set(key(2), new CacheValue('two'));
    expect(memory.get(key(1))).toBeUndefined();
    expect(memory.get(key(2))?.data).toBe('two');
    expect(memory.size).toBe(1);
  });

  it('does not evict on an overwrite at capacity', () => {
    const memory = memoryBackend({ maxEntries: 3 });
    for (let i = 0; i < 3; i++) memory.set(key(i), new CacheValue(i));
    memory.set(key(1), new CacheValue('again'));
    expect(memory.size).toBe(3);
    expect([0, 1, 2].map((i) => memory.get(key(i))?.data)).toEqual([0, 'again', 2]);
  });
});

describe('maxBytes', () => {
  const sizeOf = (value: CacheValue<unknown>): number => (value.data as string).length;

  it('evicts so the total size never exceeds the bound', () => {
    const memory = memoryBackend({ maxBytes: 1_000, sizeOf });
    for (let i = 0; i < 500; i++) {
      memory.set(key(i), new CacheValue('x'.repeat(1 + (i % 97))));
      expect(memory.bytes).toBeLessThanOrEqual(1_000);
    }
    let total = 0;
    for (let i = 0; i < 500; i++) total += (memory.get(key(i))?.data as string | undefined)?.length ?? 0;
    expect(total).toBe(memory.bytes);
    expect(memory.bytes).toBeGreaterThan(1_000 - 97);
  });

  it('evicts others when an overwrite grows an entry, and keeps that entry', () => {
    const memory = memoryBackend({ maxBytes: 100, sizeOf });
    for (let i = 0; i < 10; i++) memory.set(key(i), new CacheValue('x'.repeat(10)));
    expect(memory.bytes).toBe(100);
    memory.set(key(4), new CacheValue('y'.repeat(95)));
    expect(memory.get(key(4))?.data).toBe('y'.repeat(95));
    expect(memory.bytes).toBe(95);
    expect(memory.size).toBe(1);
  });

  it('does not store a value larger than maxBytes, and removes the old entry at that key', () => {
    const memory = memoryBackend({ maxBytes: 100, sizeOf });
    memory.set(key('a'), new CacheValue('small'));
    memory.set(key('b'), new CacheValue('kept'));
    memory.set(key('a'), new CacheValue('z'.repeat(101)));
    expect(memory.get(key('a'))).toBeUndefined();
    expect(memory.get(key('b'))?.data).toBe('kept');
    expect(memory.bytes).toBe(4);
    memory.set(key('c'), new CacheValue('z'.repeat(100)));
    expect(memory.get(key('c'))?.data).toHaveLength(100);
    expect(memory.size).toBe(1);
  });

  it('charges the default estimate: binary length, key and a fixed overhead', () => {
    const memory = memoryBackend({ maxBytes: 10_000 });
    const k = key('bytes');
    memory.set(k, new CacheValue(new Uint8Array(4_000)));
    expect(memory.bytes).toBe(4_000 + k.canonical.length * 2 + 96);
    memory.set(key('more'), new CacheValue(new Uint8Array(6_000)));
    expect(memory.bytes).toBeLessThanOrEqual(10_000);
    expect(memory.get(k)).toBeUndefined();
    expect(memory.get(key('more'))?.data).toHaveLength(6_000);
  });

  it('applies both bounds when both are given', () => {
    const memory = memoryBackend({ maxEntries: 5, maxBytes: 100, sizeOf });
    for (let i = 0; i < 20; i++) memory.set(key(i), new CacheValue('x'));
    expect(memory.size).toBe(5);
    for (let i = 0; i < 20; i++) memory.set(key(`big${i}`), new CacheValue('x'.repeat(40)));
    expect(memory.size).toBe(2);
    expect(memory.bytes).toBe(80);
  });

  it('reports a sizeOf that fails or returns nonsense as INVALID_VALUE, storing nothing', () => {
    const boom = new Error('boom');
    const throwing = memoryBackend({
      maxBytes: 100,
      sizeOf: () => {
        throw boom;
      },
    });
    expect(() => throwing.set(key(1), new CacheValue(1))).toThrow(
      expect.objectContaining({ code: 'INVALID_VALUE', cause: boom, operation: 'set' }),
    );
    expect(throwing.size).toBe(0);
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      const memory = memoryBackend({ maxBytes: 100, sizeOf: () => bad });
      expect(() => memory.set(key(1), new CacheValue(1))).toThrow(
        expect.objectContaining({ code: 'INVALID_VALUE' }),
      );
      expect(memory.size).toBe(0);
    }
  });
});
