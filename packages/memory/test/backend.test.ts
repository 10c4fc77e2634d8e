import {
  BackendLabel,
  type CacheBackend,
  CacheKey,
  CacheValue,
  isPromiseLike,
  type ReadInfo,
} from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';
import { key } from './helpers.js';

describe('memory backend', () => {
  it('answers synchronously: get, set and delete return plain values, not promises', () => {
    const memory = memoryBackend({ maxEntries: 10 });
    const set = memory.set(key(1), new CacheValue('v'));
    const get = memory.get(key(1));
    const del = memory.delete(key(1));
    for (const result of [set, get, del]) expect(isPromiseLike(result as never)).toBe(false);
    expect(get?.data).toBe('v');
  });

  it('is a CacheBackend', async () => {
    const backend: CacheBackend = memoryBackend({ maxEntries: 10 });
    await backend.set(key(1), new CacheValue(1));
    expect((await backend.get<number>(key(1)))?.data).toBe(1);
  });

  it('reports delete as deleted (count 1) or missing', () => {
    const memory = memoryBackend({ maxEntries: 10 });
    memory.set(key(1), new CacheValue('v'));
    expect(memory.delete(key(1))).toEqual({ kind: 'deleted', count: 1 });
    expect(memory.delete(key(1))).toEqual({ kind: 'missing' });
    expect(memory.delete(key('never'))).toEqual({ kind: 'missing' });
    expect(memory.get(key(1))).toBeUndefined();
  });

  it('sets info.source to its label on a hit and leaves it alone on a miss', () => {
    const memory = memoryBackend({ maxEntries: 10, label: 'l1' });
    expect(memory.label).toBe('l1');
    memory.set(key(1), new CacheValue('v'));
    const hit: ReadInfo = {};
    memory.get(key(1), hit);
    expect(hit.source).toBe('l1');
    const miss: ReadInfo = { source: BackendLabel.compose('outer', 'previous') };
    memory.get(key(2), miss);
    expect(miss.source).toBe('outer.previous');
    const defaults = memoryBackend({ maxEntries: 1 });
    defaults.set(key(1), new CacheValue('v'));
    const info: ReadInfo = {};
    defaults.get(key(1), info);
    expect(info.source).toBe('memory');
  });

  it('finds a value by an equal key, not only by the same key object', () => {
    const memory = memoryBackend({ maxEntries: 10 });
    memory.set(CacheKey.from({ a: '1', b: null }, { prefix: 'p', version: 2 }), new CacheValue('v'));
    expect(
      memory.get(
        CacheKey.from(
          [
            ['a', '1'],
            ['b', null],
          ],
          { prefix: 'p', version: 2 },
        ),
      )?.data,
    ).toBe('v');
    expect(memory.get(CacheKey.from({ a: '1', b: '' }, { prefix: 'p', version: 2 }))).toBeUndefined();
    expect(memory.get(CacheKey.from({ b: null, a: '1' }, { prefix: 'p', version: 2 }))).toBeUndefined();
    expect(memory.get(CacheKey.from({ a: '1', b: null }, { prefix: 'p', version: 3 }))).toBeUndefined();
  });

  it('stores undefined and null data as hits', () => {
    const memory = memoryBackend({ maxEntries: 10 });
    memory.set(key(1), new CacheValue(undefined));
    memory.set(key(2), new CacheValue(null));
    expect(memory.get(key(1))).toBeInstanceOf(CacheValue);
    expect(memory.get(key(2))?.data).toBeNull();
  });

  it('clear and close empty it, and it stays usable', async () => {
    const memory = memoryBackend({ maxBytes: 10_000 });
    for (let i = 0; i < 5; i++) memory.set(key(i), new CacheValue(i, Date.now() + 60_000));
    expect(memory.size).toBe(5);
    memory.clear();
    expect([memory.size, memory.bytes, memory.purgeExpired()]).toEqual([0, 0, 0]);
    expect(memory.get(key(1))).toBeUndefined();
    memory.set(key(1), new CacheValue('again'));
    await memory.close();
    expect(memory.size).toBe(0);
    memory.set(key(1), new CacheValue('after close'));
    expect(memory.get(key(1))?.data).toBe('after close');
  });
});
