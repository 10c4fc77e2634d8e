import { CacheError, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../src/index.js';
import { clockedCache, countingLoader } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('clear', () => {
  it('removes the namespace and its children, and leaves other namespaces alone', async () => {
    const { cache } = clockedCache({ namespace: 'app' });
    const users = cache.namespace('users');
    const admins = users.namespace('admins');
    await cache.set('root', 1);
    await users.set('u1', 2);
    await admins.set('a1', 3);
    await users.clear();
    expect(await users.get('u1')).toBeUndefined();
    expect(await admins.get('a1')).toBeUndefined();
    expect(await cache.get('root')).toBe(1);
  });

  it('a namespace is cleared by prefix, not by string start of its name ("app" does not clear "apple")', async () => {
    const memory = memoryBackend({ maxEntries: 100 });
    const app = createCache({ store: memory, namespace: 'app' });
    const apple = createCache({ store: memory, namespace: 'apple' });
    await app.set('k', 1);
    await apple.set('k', 2);
    await app.clear();
    expect(await app.get('k')).toBeUndefined();
    expect(await apple.get('k')).toBe(2);
  });

  it('clears every tier of a composition', async () => {
    const l1 = memoryBackend({ maxEntries: 100, label: 'near' });
    const l2 = memoryBackend({ maxEntries: 100, label: 'far' });
    const cache = createCache({ store: compose(l1, l2), namespace: 'n' });
    await cache.set('k', 1);
    await cache.clear();
    expect(l1.size + l2.size).toBe(0);
  });

  it('a load under way does not write back what was cleared', async () => {
    const { cache, advance } = clockedCache({ namespace: 'n' });
    const loading = cache.getOrSet('k', countingLoader('old', 100));
    await cache.clear();
    await advance(100);
    expect(await loading).toBe('old');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('rejects with INVALID_OPTIONS, naming the store, when it cannot clear by prefix', async () => {
    const memory = memoryBackend({ maxEntries: 10 });
    const cache = createCache({
      store: {
        label: 'plain',
        get: memory.get.bind(memory),
        set: memory.set.bind(memory),
        delete: memory.delete.bind(memory),
      },
    });
    const error = await cache.clear().catch((e: unknown) => e);
    expect(CacheError.is(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('"plain"');
  });

  it('rejects, naming the tier, when a tier fails to clear', async () => {
    const l1 = memoryBackend({ maxEntries: 100, label: 'near' });
    const l2 = memoryBackend({ maxEntries: 100, label: 'far' });
    const sick = Object.assign(Object.create(l2) as typeof l2, {
      label: 'far',
      clearPrefix: () => Promise.reject(new CacheError('CONNECTION', 'far tier unreachable')),
    });
    const cache = createCache({ store: compose(l1, sick, { onError: () => undefined }), namespace: 'n' });
    const error = await cache.clear().catch((e: unknown) => e);
    expect(CacheError.is(error, 'CONNECTION')).toBe(true);
    expect((error as Error).message).toContain('far');
  });
});
