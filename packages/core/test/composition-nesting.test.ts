import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheBackend,
  CacheError,
  CacheKey,
  CacheValue,
  Composition,
  compose,
  DeleteStatus,
  faulty,
  isPromiseLike,
  type ReadInfo,
} from '../src/index.js';
import { bytesBackend, Clock, isPending, MapBackend, value } from './composition-helpers.js';

const key = CacheKey.of('k');

describe('nested compositions', () => {
  function threeLevels(clock: Clock) {
    const a = new MapBackend('memory', clock);
    const b = new MapBackend('memory2', clock, { async: true });
    const c = new MapBackend('redis', clock, { async: true });
    const opts = { now: clock.now, onError: () => {} };
    const inner = compose(b, c, { ...opts, label: 'inner' });
    const outer = compose(a, inner, { ...opts, label: 'outer' });
    return { a, b, c, inner, outer };
  }

  it('report the label path of the layer that answered', async () => {
    const clock = new Clock();
    const t = threeLevels(clock);
    const sources: (string | undefined)[] = [];
    for (const layer of [t.a, t.b, t.c]) {
      layer.put(key, value(layer.label, clock));
      const info: ReadInfo = {};
      await t.outer.get(key, info);
      sources.push(info.source);
      t.a.clear();
      t.b.clear();
      t.c.clear();
    }
    expect(sources).toEqual(['outer.memory', 'outer.inner.memory2', 'outer.inner.redis']);
    const miss: ReadInfo = {};
    expect(await t.outer.get(key, miss)).toBeUndefined();
    expect(miss).toEqual({});
  });

  it('one ReadInfo reused across reads always names the layer of the latest hit', async () => {
    const clock = new Clock();
    const t = threeLevels(clock);
    const info: ReadInfo = {};
    t.c.put(key, value('v', clock));
    await t.outer.get(key, info);
    expect(info.source).toBe('outer.inner.redis');
    await t.outer.whenIdle();
    await t.outer.get(key, info);
    expect(info.source).toBe('outer.memory');
    t.a.clear();
    await t.outer.get(key, info);
    expect(info.source).toBe('outer.inner.memory2');
    await t.outer.get(CacheKey.of('absent'), info);
    expect(info.source).toBe('outer.inner.memory2'); // a miss leaves it alone
  });

  it('default labels compose too', () => {
    const clock = new Clock();
    const c = new MapBackend('redis', clock);
    c.put(key, value('v', clock));
    const cache = compose(new MapBackend('memory', clock), compose(new MapBackend('m2', clock), c));
    const info: ReadInfo = {};
    cache.get(key, info);
    expect(info.source).toBe('cache.cache.redis');
    expect(cache.label).toBe('cache');
  });

  it('write, delete and refill at every level, and a delete counts every copy', async () => {
    const clock = new Clock();
    const t = threeLevels(clock);
    const written = new CacheValue('v', clock.ms + 5_001, clock.ms + 2_003);
    await t.outer.set(key, written);
    for (const layer of [t.a, t.b, t.c]) expect(layer.peek(key)).toEqual(written);
    expect(await t.outer.delete(key)).toEqual(DeleteStatus.deleted(3));
    expect(await t.outer.delete(key)).toBe(DeleteStatus.missing);
  });

  it('keep expire and stale when held behind the plain CacheBackend type, with byte-storing leaves', async () => {
    const clock = new Clock();
    const { backend: far, raw: farRaw } = bytesBackend('far', clock);
    const { backend: mid, raw: midRaw } = bytesBackend('mid', clock);
    const near = new MapBackend('near', clock);
    const innerComposition = compose(mid, far, { label: 'inner', now: clock.now, onError: () => {} });
    const inner: CacheBackend = innerComposition;
    const outer: CacheBackend = compose(near, inner, { label: 'outer', now: clock.now, onError: () => {} });
    const written = new CacheValue({ n: 1 }, clock.ms + 7_777, clock.ms + 3_333);
    await outer.set(key, written);
    expect(near.peek(key)).toEqual(written);
    for (const raw of [midRaw, farRaw]) {
      const [stored] = [...raw.store.values()];
      expect([stored?.expire, stored?.stale]).toEqual([written.expire, written.stale]);
    }
    // Read back from each depth through the plain interface.
    const drops = [
      () => {},
      () => near.clear(),
      () => {
        near.clear();
        midRaw.store.clear();
      },
    ];
    for (const drop of drops) {
      drop();
      const got = await outer.get<{ n: number }>(key);
      expect(got).toEqual(written);
    }
    // And the refills that read made carry the same instants.
    await innerComposition.whenIdle();
    expect(near.peek(key)).toEqual(written);
    const [refilled] = [...midRaw.store.values()];
    expect([refilled?.expire, refilled?.stale]).toEqual([written.expire, written.stale]);
  });
});

describe('invalidation (for a coherence layer)', () => {
  it('invalidate drops the near copies at every depth and keeps the far one', async () => {
    const clock = new Clock();
    const a = new MapBackend('a', clock);
    const b = new MapBackend('b', clock);
    const c = new MapBackend('c', clock, { async: true });
    const opts = { now: clock.now };
    const cache = compose(a, compose(b, c, opts), opts);
    await cache.set(key, value('v', clock));
    expect(await cache.invalidate(key)).toEqual(DeleteStatus.deleted(2));
    expect(a.peek(key)).toBeUndefined();
    expect(b.peek(key)).toBeUndefined();
    expect(c.peek(key)?.data).toBe('v');
    const flat = compose(a, c, opts);
    await flat.get(key);
    expect(flat.invalidate(key)).toEqual(DeleteStatus.deleted(1));
  });

  it('invalidateAll clears every near layer and keeps the far one', async () => {
    const clock = new Clock();
    const a = new MapBackend('a', clock);
    const b = new MapBackend('b', clock);
    const c = new MapBackend('c', clock);
    const cache = compose(a, compose(b, c));
    await cache.set(key, value('v', clock));
    await cache.set(CacheKey.of('other'), value('w', clock));
    await cache.invalidateAll();
    expect([a.entries.size, b.entries.size, c.entries.size]).toEqual([0, 0, 2]);
  });

  it('invalidateAll needs a clearable L1 at every depth', async () => {
    const clock = new Clock();
    const plain = faulty(new MapBackend('plain', clock)); // no clear()
    const cache = compose(new MapBackend('a', clock), compose(plain, new MapBackend('c', clock)));
    const error = await cache.invalidateAll().catch((e: unknown) => e);
    expect(CacheError.is(error, 'INVALID_OPTIONS')).toBe(true);
    const top = compose(plain, new MapBackend('c', clock));
    // @ts-expect-error: an L1 without clear() cannot be invalidated wholesale.
    await expect(top.invalidateAll()).rejects.toThrow(/clear/);
  });

  it('invalidate fails like delete when a near layer fails', async () => {
    const clock = new Clock();
    const a = faulty(new MapBackend('a', clock)).inject({ kind: 'fail' }, ['delete']);
    const cache = compose(a, new MapBackend('c', clock));
    const error = await Promise.resolve(cache.invalidate(key)).catch((e: unknown) => e);
    expect(CacheError.is(error, 'CONNECTION')).toBe(true);
  });
});

describe('lifecycle and options', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('close closes both layers and throws what failed', async () => {
    const closed: string[] = [];
    const clock = new Clock();
    const closable = (label: string, fail = false): CacheBackend => {
      const layer = new MapBackend(label, clock);
      return Object.assign(layer, {
        close: async () => {
          closed.push(label);
          if (fail) throw new Error(`${label} close failed`);
        },
      });
    };
    await compose(closable('a'), compose(closable('b'), closable('c'))).close();
    expect(closed).toEqual(['a', 'b', 'c']);
    const one = await compose(closable('a'), closable('b', true))
      .close()
      .catch((e: unknown) => e);
    expect((one as CacheError).backend).toBe('cache.b');
    const both = await compose(closable('a', true), closable('b', true))
      .close()
      .catch((e: unknown) => e);
    expect(CacheError.is(both, 'ALL_LAYERS_FAILED')).toBe(true);
    expect((both as CacheError).operation).toBe('close');
    await compose(new MapBackend('x', clock), new MapBackend('y', clock)).close(); // layers without close()
  });

  it('without onError, swallowed errors go to console.warn', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const clock = new Clock();
    const l1 = faulty(new MapBackend('memory', clock)).inject({ kind: 'fail' }, ['get']);
    const l2 = new MapBackend('redis', clock);
    l2.put(key, value('v', clock));
    await compose(l1, l2).get(key);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/"cache".*get failed in "cache.memory"/);
  });

  it('exposes its layers and resolved options', () => {
    const clock = new Clock();
    const l1 = new MapBackend('memory', clock);
    const l2 = new MapBackend('redis', clock);
    const cache = compose(l1, l2);
    expect(cache).toBeInstanceOf(Composition);
    expect(cache.l1).toBe(l1);
    expect(cache.l2).toBe(l2);
    expect(cache.options).toMatchObject({
      label: 'cache',
      readPolicy: 'sequential',
      writePolicy: 'parallel',
      refill: 'always',
      raceLoser: 'background',
    });
  });

  it('rejects bad options and bad layers with INVALID_OPTIONS', () => {
    const clock = new Clock();
    const l1 = new MapBackend('memory', clock);
    const l2 = new MapBackend('redis', clock);
    const bad = [
      () => compose(l1, l2, { readPolicy: 'fastest' as never }),
      () => compose(l1, l2, { writePolicy: 'optimistic' as never }),
      () => compose(l1, l2, { refill: true as never }),
      () => compose(l1, l2, { raceLoser: 'cancel' as never }),
      () => compose(l1, l2, { onError: 'log' as never }),
      () => compose(l1, l1),
      () => compose(l1, undefined as never),
    ];
    for (const make of bad) expect(make).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('a throwing onError does not break the read', async () => {
    const clock = new Clock();
    const l1 = faulty(new MapBackend('memory', clock)).inject({ kind: 'fail' }, ['get']);
    const l2 = new MapBackend('redis', clock);
    l2.put(key, value('v', clock));
    const thrown: unknown[] = [];
    const queue = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => {
      try {
        task();
      } catch (error) {
        thrown.push(error);
      }
    });
    const got = await compose(l1, l2, {
      onError: () => {
        throw new Error('reporter bug');
      },
    }).get(key);
    queue.mockRestore();
    expect(got?.data).toBe('v');
    expect(thrown).toEqual([new Error('reporter bug')]);
  });
});

describe('faulty', () => {
  it('passes calls through, counts them and keeps the label', () => {
    const clock = new Clock();
    const inner = new MapBackend('memory', clock);
    const f = faulty(inner);
    expect(f.label).toBe('memory');
    expect(faulty(inner, { label: 'other' }).label).toBe('other');
    f.set(key, value('v', clock));
    expect((f.get(key) as CacheValue<string>).data).toBe('v');
    expect(f.delete(key)).toEqual(DeleteStatus.deleted(1));
    expect(f.calls).toEqual({ get: 1, set: 1, delete: 1 });
    expect(f.inner).toBe(inner);
  });

  it('fails synchronously or asynchronously, for a number of calls', async () => {
    const f = faulty(new MapBackend('memory', new Clock()));
    f.inject({ kind: 'fail', sync: true, times: 1 }, ['get']);
    expect(() => f.get(key)).toThrow(expect.objectContaining({ code: 'CONNECTION', backend: 'memory' }));
    expect(f.get(key)).toBeUndefined(); // healed after one call
    f.inject({ kind: 'fail', error: 'custom', times: 2 });
    await expect(f.get(key)).rejects.toBe('custom');
    await expect(f.delete(key)).rejects.toBe('custom');
    await expect(f.delete(key)).rejects.toBe('custom');
    expect(f.delete(key)).toBe(DeleteStatus.missing);
    expect(() => f.inject({ kind: 'delay', ms: -1 })).toThrow(CacheError);
    expect(() => f.inject({ kind: 'hang', times: 0 })).toThrow(CacheError);
  });

  it('delays and hangs before the call or after the answer', async () => {
    const clock = new Clock();
    const inner = new MapBackend('memory', clock);
    const f = faulty(inner);
    inner.put(key, value('before', clock));
    f.inject({ kind: 'hang' }, ['get']);
    const early = f.get<string>(key);
    f.inject({ kind: 'hang', at: 'answer' }, ['get']);
    const late = f.get<string>(key);
    expect(isPromiseLike(late)).toBe(true);
    expect(f.hanging).toBe(2);
    inner.put(key, value('after', clock));
    expect(await isPending(early)).toBe(true);
    f.heal(['get']);
    expect(f.hanging).toBe(0);
    expect((await early)?.data).toBe('after'); // reached the store once let through
    expect((await late)?.data).toBe('before'); // read when sent, answered when let through
    f.inject({ kind: 'delay', ms: 1 }, ['set']);
    const set = f.set(key, value('delayed', clock));
    expect(isPromiseLike(set)).toBe(true);
    await set;
    expect(inner.peek(key)?.data).toBe('delayed');
  });
});
