import { CacheKey, CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';

describe('clearPrefix', () => {
  it('removes the keys whose prefix starts with the given one, and only those', async () => {
    const memory = memoryBackend({ maxEntries: 100 });
    const keys = ['app:', 'app:users:', 'apple:', 'ap', ''].map((prefix) =>
      CacheKey.of('k', null, { prefix }),
    );
    for (const key of keys) memory.set(key, new CacheValue(key.prefix));
    await memory.clearPrefix('app:');
    expect(keys.map((key) => memory.get(key)?.data)).toEqual([undefined, undefined, 'apple:', 'ap', '']);
    await memory.clearPrefix('"quoted\\');
    expect(memory.size).toBe(3);
    await memory.clearPrefix('');
    expect(memory.size).toBe(0);
  });
});
