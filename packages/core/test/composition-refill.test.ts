import { describe, expect, it } from 'vitest';
import {
  type CacheBackend,
  CacheError,
  CacheKey,
  CacheValue,
  type CompositionEvent,
  compose,
  faulty,
  type ReadInfo,
  type ReadPolicy,
} from '../src/index.js';
import { bytesBackend, Clock, errorLog, isPending, MapBackend, tick } from './composition-helpers.js';

const key = CacheKey.of('user', '42', { prefix: 'app', version: 3 });

/** An L2 entry with distinct, exact expire and stale instants. */
function entry(clock: Clock, data: unknown = { name: 'Ada' }): CacheValue<unknown> {
  return new CacheValue(data, clock.ms + 90_001, clock.ms + 30_007);
}

function expectSameMetadata(actual: CacheValue<unknown> | undefined, expected: CacheValue<unknown>): void {
  expect(actual).toBeDefined();
  expect(actual?.data).toEqual(expected.data);
  expect(actual?.expire).toBe(expected.expire);
  expect(actual?.stale).toBe(expected.stale);
}

describe.each(['sequential', 'race', 'parallel'] as ReadPolicy[])(
  'refill under the %s read policy',
  (readPolicy) => {
    it('copies an L2 hit into L1 with the same absolute expire and stale', async () => {
      for (const async of [false, true]) {
        const clock = new Clock();
        const l1 = new MapBackend('memory', clock, { async });
        const l2 = new MapBackend('redis', clock, { async });
        const cache = compose(l1, l2, { readPolicy, now: clock.now, onError: () => {} });
        const stored = entry(clock);
        l2.put(key, stored);
        expectSameMetadata(await cache.get(key), stored);
        await cache.whenIdle();
        expectSameMetadata(l1.peek(key), stored);
        // The copy in L1 expires with L2's, not later.
        clock.advance(90_001);
        expect(await cache.get(key)).toBeUndefined();
      }
    });

    it('does not copy a stale hit, but still returns it with its metadata', async () => {
      const clock = new Clock();
      const l1 = new MapBackend('memory', clock);
      const l2 = new MapBackend('redis', clock, { async: true });
      const cache = compose(l1, l2, { readPolicy, now: clock.now, onError: () => {} });
      const stored = entry(clock);
      l2.put(key, stored);
      clock.advance(30_007); // exactly at the stale instant
      const got = await cache.get(key);
      expectSameMetadata(got, stored);
      expect(got?.state(clock.ms)).toBe('stale');
      await cache.whenIdle();
      expect(l1.peek(key)).toBeUndefined();
    });
  },
);

describe('refill at every depth', () => {
  function chain(clock: Clock) {
    const a = new MapBackend('a', clock);
    const b = new MapBackend('b', clock, { async: true });
    const c = new MapBackend('c', clock);
    const d = new MapBackend('d', clock, { async: true });
    const opts = { now: clock.now, onError: () => {} };
    const inner = compose(c, d, { ...opts, label: 'inner' });
    const mid = compose(b, inner, { ...opts, label: 'mid' });
    const outer = compose(a, mid, { ...opts, label: 'outer' });
    return { a, b, c, d, inner, mid, outer };
  }

  it('a hit in the deepest layer refills every layer above it, exactly', async () => {
    const clock = new Clock();
    const t = chain(clock);
    const stored = entry(clock);
    t.d.put(key, stored);
    const info: ReadInfo = {};
    expectSameMetadata(await t.outer.get(key, info), stored);
    expect(info.source).toBe('outer.mid.inner.d');
    await t.outer.whenIdle();
    await t.mid.whenIdle();
    for (const layer of [t.a, t.b, t.c]) expectSameMetadata(layer.peek(key), stored);
  });

  it('a stale hit is refilled at no depth', async () => {
    const clock = new Clock();
    const t = chain(clock);
    const stored = entry(clock);
    t.d.put(key, stored);
    clock.advance(40_000);
    expectSameMetadata(await t.outer.get(key), stored);
    await t.outer.whenIdle();
    await t.mid.whenIdle();
    for (const layer of [t.a, t.b, t.c]) expect(layer.peek(key)).toBeUndefined();
  });

  it('a composition as L1 is refilled through its own write policy', async () => {
    const clock = new Clock();
    const a = new MapBackend('a', clock);
    const b = new MapBackend('b', clock);
    const far = new MapBackend('far', clock, { async: true });
    const near = compose(a, b, { label: 'near', now: clock.now, onError: () => {} });
    const cache = compose(near, far, { now: clock.now, onError: () => {} });
    const stored = entry(clock);
    far.put(key, stored);
    const info: ReadInfo = {};
    await cache.get(key, info);
    expect(info.source).toBe('cache.far');
    expectSameMetadata(a.peek(key), stored);
    expectSameMetadata(b.peek(key), stored);
    const again: ReadInfo = {};
    await cache.get(key, again);
    expect(again.source).toBe('cache.near.a');
  });

  it('through byte-storing layers with their own format and key format', async () => {
    const clock = new Clock();
    const memory = new MapBackend('memory', clock);
    const { backend: json, raw } = bytesBackend('json-store', clock);
    const cache = compose(memory, json, { now: clock.now, onError: () => {} });
    const stored = entry(clock, { list: [1, 2, 3], nested: { ok: true } });
    await json.set(key, stored);
    const [storeKey, bytes] = [...raw.store.entries()][0] ?? [];
    expect(storeKey).toBe('_prefix=app&_version=3&user=42');
    expect(new TextDecoder().decode(bytes?.data)).toBe('{"list":[1,2,3],"nested":{"ok":true}}');
    expectSameMetadata(await cache.get(key), stored);
    expectSameMetadata(memory.peek(key), stored);
  });
});

describe('refill behaviour', () => {
  function setup(refill: 'always' | 'never' = 'always') {
    const clock = new Clock();
    const m1 = new MapBackend('memory', clock, { async: true });
    const m2 = new MapBackend('redis', clock, { async: true });
    const l1 = faulty(m1);
    const l2 = faulty(m2);
    const log = errorLog();
    const cache = compose(l1, l2, { refill, now: clock.now, onError: log.onError });
    m2.put(key, entry(clock, 'old'));
    return { clock, m1, m2, l1, l2, log, cache };
  }

  it('refill "never" leaves L1 alone', async () => {
    const t = setup('never');
    expect((await t.cache.get(key))?.data).toBe('old');
    await t.cache.whenIdle();
    expect(t.m1.peek(key)).toBeUndefined();
  });

  it('does not make the read wait for L1, even a hung one', async () => {
    const t = setup();
    t.l1.inject({ kind: 'hang' }, ['set']);
    expect((await t.cache.get(key))?.data).toBe('old');
    const idle = t.cache.whenIdle();
    expect(await isPending(idle)).toBe(true);
    t.l1.heal();
    await idle;
    expect(t.m1.peek(key)?.data).toBe('old');
  });

  it('reports a failed refill and still returns the hit', async () => {
    const t = setup();
    t.l1.inject({ kind: 'fail' }, ['set']);
    expect((await t.cache.get(key))?.data).toBe('old');
    await t.cache.whenIdle();
    expect(t.log.events.map((e) => [e.layer, e.operation, e.error.operation])).toEqual([
      ['l1', 'refill', 'set'],
    ]);
    expect(CacheError.is(t.log.events[0]?.error, 'CONNECTION')).toBe(true);
  });

  it('publishes refills with their source path', async () => {
    const t = setup();
    const events: CompositionEvent[] = [];
    t.cache.subscribe((event) => events.push(event));
    const got = await t.cache.get(key);
    await t.cache.whenIdle();
    expect(events).toEqual([{ type: 'refill', key, value: got, source: 'cache.redis' }]);
  });
});

describe('refill guard: an L2 read in flight never copies an old value over a newer one', () => {
  function setup(readPolicy: ReadPolicy = 'sequential') {
    const clock = new Clock();
    const m1 = new MapBackend('memory', clock);
    const m2 = new MapBackend('redis', clock, { async: true });
    const l2 = faulty(m2);
    const cache = compose(m1, l2, { readPolicy, now: clock.now, onError: () => {} });
    m2.put(key, entry(clock, 'old'));
    // The read reaches L2 now, its answer ("old") is held until heal().
    l2.inject({ kind: 'hang', at: 'answer', times: 1 }, ['get']);
    return { clock, m1, m2, l2, cache };
  }

  it('control: without interference the held read refills', async () => {
    const t = setup();
    const read = t.cache.get(key);
    t.l2.heal();
    expect((await read)?.data).toBe('old');
    expect(t.m1.peek(key)?.data).toBe('old');
  });

  it('a set during the read', async () => {
    const t = setup();
    const read = t.cache.get(key);
    await tick();
    await t.cache.set(key, entry(t.clock, 'new'));
    t.l2.heal();
    expect((await read)?.data).toBe('old'); // it was read before the write
    expect(t.m1.peek(key)?.data).toBe('new');
    expect(await t.cache.get(key)).toMatchObject({ data: 'new' });
  });

  it('a delete during the read', async () => {
    const t = setup();
    const read = t.cache.get(key);
    await t.cache.delete(key);
    t.l2.heal();
    await read;
    expect(t.m1.peek(key)).toBeUndefined();
  });

  it('an invalidation during the read (another process changed the key)', async () => {
    const t = setup();
    const read = t.cache.get(key);
    t.m2.put(key, entry(t.clock, 'theirs'));
    await t.cache.invalidate(key);
    t.l2.heal();
    expect((await read)?.data).toBe('old');
    expect(t.m1.peek(key)).toBeUndefined();
    expect((await t.cache.get(key))?.data).toBe('theirs');
  });

  it('invalidateAll during the read', async () => {
    const t = setup();
    const read = t.cache.get(key);
    await t.cache.invalidateAll();
    t.l2.heal();
    await read;
    expect(t.m1.peek(key)).toBeUndefined();
  });

  it('a read sent while a write of the key is in flight', async () => {
    // Parallel reads rank by expire: the old L2 entry (90 s) would beat the new L1 one (10 s) and be copied
    // over it, were the write not in flight.
    const clock = new Clock();
    const m1 = new MapBackend('memory', clock);
    const m2 = new MapBackend('redis', clock, { async: true });
    const l2 = faulty(m2);
    const cache = compose(m1, l2 as CacheBackend, {
      readPolicy: 'parallel',
      now: clock.now,
      onError: () => {},
    });
    m2.put(key, entry(clock, 'old'));
    l2.inject({ kind: 'hang' }, ['set']);
    const write = cache.set(key, new CacheValue('new', clock.ms + 10_000));
    expect(m1.peek(key)?.data).toBe('new');
    expect((await cache.get(key))?.data).toBe('old');
    expect(m1.peek(key)?.data).toBe('new');
    l2.heal();
    await write;
    expect((await cache.get(key))?.data).toBe('new');
  });
});
