// What a user relies on beyond @keyv/test-suite: absolute expiry in the backend, disjoint namespaces, clear()
// refused without clearPrefix, failures reported and never dropped, raw values, batch answers, disconnect.
import { type CacheBackend, CacheError, CacheKey, CacheValue, compose, faulty } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import Keyv from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyvCacheStore, scopePrefix } from '../src/index.js';
import { scratchRedis } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function redis() {
  const scratch = scratchRedis();
  cleanups.push(scratch.drop);
  return scratch.redis;
}

/** Keyv without its serializer, as the README shows (the setters accept `undefined` under exactOptionalPropertyTypes). */
function withoutSerializer(keyv: Keyv): Keyv {
  keyv.serialize = undefined;
  keyv.deserialize = undefined;
  return keyv;
}

describe('expiry', () => {
  it('gives the backend an absolute expiry from the ttl Keyv passes, and none without one', async () => {
    let now = 1_000_000;
    const memory = memoryBackend({ maxEntries: 100, now: () => now });
    const store = new KeyvCacheStore(memory);
    const keyv = new Keyv({ store });
    const before = Date.now();
    await keyv.set('short', 'v', 5_000);
    await keyv.set('forever', 'v');
    const entry = await memory.get(store.cacheKey('keyv:short'));
    expect(entry?.expire).toBeGreaterThanOrEqual(before + 5_000);
    expect(entry?.expire).toBeLessThanOrEqual(Date.now() + 5_000);
    expect((await memory.get(store.cacheKey('keyv:forever')))?.expire).toBeUndefined();
    now = Date.now() + 5_001; // the backend's own clock: the entry is gone from the store, not only hidden by Keyv
    expect(await memory.get(store.cacheKey('keyv:short'))).toBeUndefined();
  });

  it('sets the expiry in Redis itself (through memory + Redis tiers)', async () => {
    const backend = redis();
    const store = new KeyvCacheStore(compose(memoryBackend({ maxEntries: 100 }), backend));
    const keyv = new Keyv({ store, throwOnErrors: true });
    await keyv.set('k', { a: 1 }, 60_000);
    const entry = await backend.get(store.cacheKey('keyv:k'));
    expect(entry?.expire).toBeGreaterThan(Date.now() + 50_000);
    expect(entry?.expire).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await keyv.get('k')).toEqual({ a: 1 });
  });
});

describe('namespaces', () => {
  it('keeps namespaces whose names start one another apart, and clears only its own', async () => {
    const memory = memoryBackend({ maxEntries: 100 });
    const keyvs = ['a', 'a:b', 'ab', ''].map(
      (namespace) => new Keyv({ store: new KeyvCacheStore(memory), namespace }),
    );
    for (const [i, keyv] of keyvs.entries()) await keyv.set('k', i);
    await keyvs[0]?.clear();
    expect(await Promise.all(keyvs.map((keyv) => keyv.get('k')))).toEqual([undefined, 1, 2, 3]);
    await keyvs[3]?.clear(); // no namespace is a scope of its own
    expect(await Promise.all(keyvs.map((keyv) => keyv.get('k')))).toEqual([undefined, 1, 2, undefined]);
  });

  it('writes under <prefix>:<namespace>: and leaves other prefixes of a shared backend alone', async () => {
    const memory = memoryBackend({ maxEntries: 100 });
    const other = CacheKey.of('k', null, { prefix: 'keyv' });
    await memory.set(other, new CacheValue('app'));
    const store = new KeyvCacheStore(memory, { prefix: 'sessions' });
    const keyv = new Keyv({ store, namespace: 'users' });
    await keyv.set('1', 'one');
    expect(store.keyPrefix).toBe('sessions:users:');
    expect(scopePrefix('keyv', 'a:b/c')).toBe('keyv:a%3Ab%2Fc:');
    await keyv.clear();
    expect(memory.size).toBe(1);
  });
});

describe('failures', () => {
  it('refuses clear() clearly when the backend cannot clear by prefix', async () => {
    const memory = memoryBackend({ maxEntries: 10 });
    const bare: CacheBackend = {
      label: 'bare',
      get: (key, info) => memory.get(key, info),
      set: (key, value) => memory.set(key, value),
      delete: (key) => memory.delete(key),
    };
    const store = new KeyvCacheStore(bare);
    const error = await store.clear().catch((e: unknown) => e);
    expect(CacheError.is(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toMatch(/clearPrefix.*"bare"/);
    const keyv = new Keyv({ store, throwOnErrors: true });
    await expect(keyv.clear()).rejects.toThrow(/clearPrefix/);
  });

  it('emits a failed get on its error event (Keyv drops it otherwise) and rejects', async () => {
    const backend = faulty(memoryBackend({ maxEntries: 10 }));
    const store = new KeyvCacheStore(backend);
    const keyv = new Keyv({ store });
    const seen: unknown[] = [];
    keyv.on('error', (error: unknown) => seen.push(error));
    backend.inject({ kind: 'fail' }, ['get']);
    expect(await keyv.get('k')).toBeUndefined(); // Keyv's choice: a miss...
    expect(seen).toHaveLength(1); // ...but reported
    expect(CacheError.is(seen[0], 'CONNECTION')).toBe(true);
    await expect(store.get('k')).rejects.toSatisfy((e) => CacheError.is(e, 'CONNECTION'));
    const strict = new Keyv({ store: new KeyvCacheStore(backend), throwOnErrors: true });
    await expect(strict.get('k')).rejects.toSatisfy((e) => CacheError.is(e, 'CONNECTION'));
  });

  it('lets Keyv report failed writes once: set resolves false with one error event', async () => {
    const backend = faulty(memoryBackend({ maxEntries: 10 }));
    const keyv = new Keyv({ store: new KeyvCacheStore(backend) });
    const seen: unknown[] = [];
    keyv.on('error', (error: unknown) => seen.push(error));
    backend.inject({ kind: 'fail' }, ['set', 'delete']);
    expect(await keyv.set('k', 1)).toBe(false);
    expect(await keyv.delete('k')).toBe(false);
    expect(seen).toHaveLength(2);
  });
});

describe('values and batches', () => {
  it('stores the string Keyv serializes, or the raw { value, expires } without a serializer', async () => {
    const memory = memoryBackend({ maxEntries: 10 });
    const store = new KeyvCacheStore(memory);
    await new Keyv({ store }).set('s', { a: 1 });
    expect(typeof (await store.get('keyv:s'))).toBe('string');
    const raw = withoutSerializer(new Keyv({ store: new KeyvCacheStore(memory) }));
    const value = { when: new Date(0), bytes: new Uint8Array([1, 2]) };
    await raw.set('r', value);
    expect(await raw.get('r')).toBe(value); // memory keeps the object itself (clone: true copies)
  });

  it('round-trips raw values through Redis with its value format', async () => {
    const raw = withoutSerializer(new Keyv({ store: new KeyvCacheStore(redis()), throwOnErrors: true }));
    await raw.set('r', { n: 1, list: ['x', null] });
    expect(await raw.get('r')).toEqual({ n: 1, list: ['x', null] });
  });

  it('answers the batch calls per key, in order', async () => {
    const keyv = new Keyv({ store: new KeyvCacheStore(memoryBackend({ maxEntries: 10 })) });
    expect(
      await keyv.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, ttl: 60_000 },
      ]),
    ).toEqual([true, true]);
    expect(await keyv.getMany(['a', 'x', 'b'])).toEqual([1, undefined, 2]);
    expect(await keyv.hasMany(['a', 'x'])).toEqual([true, false]);
    expect(await keyv.deleteMany(['a', 'x'])).toBe(false);
    expect(await keyv.deleteMany(['b'])).toBe(true);
    expect(await keyv.has('a')).toBe(false);
  });

  it('closes the backend on disconnect unless told it is shared', async () => {
    let closed = 0;
    const memory = memoryBackend({ maxEntries: 10 });
    const backend: CacheBackend = Object.assign(Object.create(memory) as CacheBackend, {
      close: async () => {
        closed++;
      },
    });
    await new Keyv({ store: new KeyvCacheStore(backend) }).disconnect();
    await new Keyv({ store: new KeyvCacheStore(backend, { closeOnDisconnect: false }) }).disconnect();
    expect(closed).toBe(1);
  });
});
