import { CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';
import { key } from './helpers.js';

describe('clone: false (default)', () => {
  it('stores and returns the very objects it was given', () => {
    const memory = memoryBackend({ maxEntries: 10 });
    const data = { list: [1, 2] };
    const value = new CacheValue(data, Date.now() + 60_000);
    memory.set(key(1), value);
    const read = memory.get<typeof data>(key(1));
    expect(read).toBe(value);
    expect(read?.data).toBe(data);
    data.list.push(3);
    expect(memory.get<typeof data>(key(1))?.data.list).toEqual([1, 2, 3]);
  });

  it('stores values that structuredClone cannot copy', () => {
    const memory = memoryBackend({ maxEntries: 10 });
    const fn = () => 42;
    memory.set(key(1), new CacheValue(fn));
    expect(memory.get(key(1))?.data).toBe(fn);
  });
});

describe('clone: true', () => {
  it('is not affected by mutating the input after set', () => {
    const memory = memoryBackend({ maxEntries: 10, clone: true });
    const data = { list: [1, 2], when: new Date(0), bytes: new Uint8Array([1]) };
    memory.set(key(1), new CacheValue(data));
    data.list.push(3);
    data.when.setTime(5);
    data.bytes[0] = 9;
    const read = memory.get<typeof data>(key(1))?.data;
    expect(read).toEqual({ list: [1, 2], when: new Date(0), bytes: new Uint8Array([1]) });
  });

  it('is not affected by mutating what get returned', () => {
    const memory = memoryBackend({ maxEntries: 10, clone: true });
    memory.set(key(1), new CacheValue({ list: [1, 2] }));
    const first = memory.get<{ list: number[] }>(key(1));
    first?.data.list.push(3);
    const second = memory.get<{ list: number[] }>(key(1));
    expect(second?.data).toEqual({ list: [1, 2] });
    expect(second?.data).not.toBe(first?.data);
  });

  it('keeps expire and stale on the copies', () => {
    const memory = memoryBackend({ maxEntries: 10, clone: true });
    const expire = Date.now() + 60_000;
    memory.set(key(1), new CacheValue('v', expire, expire - 1_000));
    const read = memory.get(key(1));
    expect(read).toBeInstanceOf(CacheValue);
    expect([read?.expire, read?.stale]).toEqual([expire, expire - 1_000]);
  });

  it('rejects data that cannot be cloned with INVALID_VALUE, keeping the old entry', () => {
    const memory = memoryBackend({ maxEntries: 10, clone: true });
    memory.set(key(1), new CacheValue('old'));
    let error: unknown;
    try {
      memory.set(key(1), new CacheValue({ callback: () => 1 }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      name: 'CacheError',
      code: 'INVALID_VALUE',
      backend: 'memory',
      operation: 'set',
    });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(memory.get(key(1))?.data).toBe('old');
  });
});
