import { CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';
import { key, ManualClock } from './helpers.js';

describe('expiry', () => {
  it('serves an entry until the millisecond before it expires, never at or after', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10, now: clock.now });
    memory.set(key(1), new CacheValue('v', clock.time + 250));
    clock.advance(249);
    expect(memory.get(key(1))?.data).toBe('v');
    clock.advance(1);
    expect(memory.get(key(1))).toBeUndefined();
    expect(memory.size).toBe(0);
  });

  it('keeps expire and stale exactly, and serves stale values until they expire', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10, now: clock.now });
    const value = CacheValue.fromTtl('v', { ttlMs: 10, graceMs: 990 }, clock.time);
    memory.set(key(1), value);
    clock.advance(500);
    const read = memory.get(key(1));
    expect(read?.expire).toBe(clock.time + 500);
    expect(read?.stale).toBe(clock.time - 490);
    expect(read?.state(clock.time)).toBe('stale');
  });

  it('removes the entry when an already expired value is set', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10, now: clock.now });
    memory.set(key(1), new CacheValue('old'));
    memory.set(key(1), new CacheValue('new', clock.time));
    expect(memory.get(key(1))).toBeUndefined();
    expect(memory.size).toBe(0);
    memory.set(key(2), new CacheValue('past', clock.time - 1));
    expect(memory.size).toBe(0);
  });

  it('replaces metadata entirely on overwrite, in both directions', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10, now: clock.now });
    memory.set(key(1), new CacheValue('a', clock.time + 100, clock.time + 50));
    memory.set(key(1), new CacheValue('b'));
    clock.advance(1_000);
    const forever = memory.get(key(1));
    expect(forever?.data).toBe('b');
    expect(forever?.expire).toBeUndefined();
    expect(forever?.stale).toBeUndefined();
    memory.set(key(1), new CacheValue('c', clock.time + 10));
    clock.advance(10);
    expect(memory.get(key(1))).toBeUndefined();
  });

  it('reads the clock only for entries that have an expiry', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10, now: clock.now });
    memory.set(key(1), new CacheValue('forever'));
    memory.get(key(1));
    memory.get(key(2));
    memory.delete(key(1));
    expect(clock.reads).toBe(0);
    memory.set(key(3), new CacheValue('soon', clock.time + 5));
    memory.get(key(3));
    expect(clock.reads).toBeGreaterThan(0);
  });

  it('reports an expired entry as missing on delete, and removes it', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10, now: clock.now });
    memory.set(key(1), new CacheValue('v', clock.time + 5));
    clock.advance(5);
    expect(memory.delete(key(1))).toEqual({ kind: 'missing' });
    expect(memory.size).toBe(0);
  });

  it('sweeps expired entries a few per write, so they do not pile up without reads', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 10_000, now: clock.now });
    for (let i = 0; i < 1_000; i++) memory.set(key(i), new CacheValue(i, clock.time + 10));
    clock.advance(10);
    for (let i = 0; i < 600; i++) memory.set(key(`live${i}`), new CacheValue(i, clock.time + 60_000));
    expect(memory.size).toBeLessThan(1_600);
    for (let i = 0; i < 600; i++) memory.set(key(`more${i}`), new CacheValue(i, clock.time + 60_000));
    expect(memory.size).toBe(1_200);
  });

  it('evicts expired entries before live ones, whatever their visited bit', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 4, now: clock.now });
    memory.set(key('live'), new CacheValue('live'));
    memory.set(key('short'), new CacheValue('short', clock.time + 5));
    memory.set(key('x'), new CacheValue('x'));
    memory.set(key('y'), new CacheValue('y'));
    for (const k of ['live', 'short', 'x', 'y']) memory.get(key(k));
    clock.advance(5);
    memory.set(key('new'), new CacheValue('new'));
    expect(['live', 'x', 'y', 'new'].map((k) => memory.get(key(k))?.data)).toEqual(['live', 'x', 'y', 'new']);
  });

  it('keeps the expiry of each of thousands of entries, with only a byte bound', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxBytes: 100_000_000, now: clock.now });
    for (let i = 0; i < 5_000; i++)
      memory.set(key(i), new CacheValue(i, i % 2 === 0 ? clock.time + 1 + i : undefined));
    clock.advance(2_500);
    let live = 0;
    for (let i = 0; i < 5_000; i++) {
      const read = memory.get<number>(key(i));
      if (read !== undefined) {
        live++;
        expect(read.data).toBe(i);
        expect(read.expire).toBe(i % 2 === 0 ? clock.time - 2_500 + 1 + i : undefined);
      }
    }
    expect(live).toBe(2_500 + 1_250);
  });

  it('purgeExpired removes every expired entry at once', () => {
    const clock = new ManualClock();
    const memory = memoryBackend({ maxEntries: 100, now: clock.now });
    for (let i = 0; i < 30; i++) memory.set(key(i), new CacheValue(i, clock.time + (1 + (i % 3)) * 10));
    for (let i = 30; i < 40; i++) memory.set(key(i), new CacheValue(i));
    clock.advance(10);
    expect(memory.purgeExpired()).toBe(10);
    clock.advance(10);
    expect(memory.purgeExpired()).toBe(10);
    expect(memory.size).toBe(20);
    expect(memory.purgeExpired()).toBe(0);
  });
});
