import { describe, expect, it } from 'vitest';
import {
  type BatchRead,
  breaker,
  type CacheBackend,
  CacheError,
  CacheKey,
  CacheValue,
  compose,
  DeleteStatus,
  deleteMany,
  faulty,
  getMany,
  type ReadInfo,
  type ReadPolicy,
  setMany,
  toCacheBackend,
  type WritePolicy,
} from '../src/index.js';
import { Clock, errorLog, MapBackend, RawMapBackend, tick, value } from './composition-helpers.js';

const k = (id: string): CacheKey => CacheKey.of('batch', id);
const data = (results: readonly unknown[]): unknown[] =>
  results.map((r) =>
    r === undefined ? undefined : CacheError.is(r) ? r.code : r instanceof CacheValue ? r.data : r,
  );

/** A backend with only the single operations, counting the calls each key gets. */
function singleOnly(clock: Clock, options: { async?: boolean } = {}) {
  const store = new MapBackend('single', clock, options);
  const calls = { get: 0, set: 0, delete: 0 };
  const backend: CacheBackend = {
    label: 'single',
    get: (key, info) => {
      calls.get++;
      if (key.parts[0]?.value === 'corrupt') throw new CacheError('CORRUPT_ENTRY', 'bad entry');
      return store.get(key, info);
    },
    set: (key, v) => {
      calls.set++;
      return store.set(key, v);
    },
    delete: (key) => {
      calls.delete++;
      return store.delete(key);
    },
  };
  return { backend, store, calls };
}

describe('batch helpers over a backend with single operations only (the fallback)', () => {
  for (const async of [false, true]) {
    describe(async ? 'asynchronous backend' : 'synchronous backend', () => {
      it('getMany answers in key order, duplicates in every position, once per distinct key', async () => {
        const clock = new Clock();
        const t = singleOnly(clock, { async });
        await t.backend.set(k('a'), value('A', clock));
        await t.backend.set(k('b'), value('B', clock));
        const infos: ReadInfo[] = [{}, {}, {}, {}];
        const read = getMany(t.backend, [k('b'), k('missing'), k('a'), k('b')], infos);
        expect(read instanceof Promise).toBe(async);
        expect(data(await read)).toEqual(['B', undefined, 'A', 'B']);
        expect(t.calls.get).toBe(3);
        expect(infos.map((i) => i.source)).toEqual(['single', undefined, 'single', 'single']);
      });

      it('a key that fails holds its error; the other positions are answered', async () => {
        const t = singleOnly(new Clock(), { async });
        await t.backend.set(k('a'), new CacheValue('A'));
        const results = await getMany(t.backend, [k('a'), k('corrupt'), k('none')]);
        expect(data(results)).toEqual(['A', 'CORRUPT_ENTRY', undefined]);
        expect((results[1] as CacheError).backend).toBe('single');
      });

      it('setMany: the last entry of a repeated key wins; deleteMany: first position deleted, then missing', async () => {
        const t = singleOnly(new Clock(), { async });
        const outcomes = await setMany(t.backend, [
          { key: k('a'), value: new CacheValue(1) },
          { key: k('b'), value: new CacheValue(2) },
          { key: k('a'), value: new CacheValue(3) },
        ]);
        expect(outcomes).toEqual([undefined, undefined, undefined]);
        expect(t.calls.set).toBe(2);
        expect(data(await getMany(t.backend, [k('a'), k('b')]))).toEqual([3, 2]);
        const statuses = await deleteMany(t.backend, [k('a'), k('x'), k('a'), k('b')]);
        expect(statuses).toEqual([
          DeleteStatus.deleted(1),
          DeleteStatus.missing,
          DeleteStatus.missing,
          DeleteStatus.deleted(1),
        ]);
      });
    });
  }

  it('empty batches answer empty arrays; a non-array is INVALID_OPTIONS', () => {
    const t = singleOnly(new Clock());
    expect(getMany(t.backend, [])).toEqual([]);
    expect(setMany(t.backend, [])).toEqual([]);
    expect(deleteMany(t.backend, [])).toEqual([]);
    expect(() => getMany(t.backend, 'a' as unknown as CacheKey[])).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('a batch with something that is not a key, or a malformed setMany entry, is INVALID_OPTIONS at once', async () => {
    const t = singleOnly(new Clock(), { async: true });
    expect(() => getMany(t.backend, [k('a'), undefined as unknown as CacheKey])).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => deleteMany(t.backend, [{} as CacheKey])).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => setMany(t.backend, [undefined as never])).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    const cache = compose(new MapBackend('m', new Clock()), new MapBackend('r', new Clock()));
    expect(() => cache.setMany([{ key: k('a') } as never])).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it("a backend's getMany that rejects as a whole puts its error in every position", async () => {
    const backend: CacheBackend = {
      ...singleOnly(new Clock()).backend,
      getMany: () => Promise.reject(new CacheError('CONNECTION', 'down')),
    };
    expect(data(await getMany(backend, [k('a'), k('b')]))).toEqual(['CONNECTION', 'CONNECTION']);
  });

  it("a backend's getMany answering the wrong number of positions is PROTOCOL in every position", async () => {
    const backend: CacheBackend = { ...singleOnly(new Clock()).backend, getMany: () => [undefined] };
    expect(data(await getMany(backend, [k('a'), k('b')]))).toEqual(['PROTOCOL', 'PROTOCOL']);
  });
});

describe('TypedBackend batch over a raw backend without batch methods', () => {
  it('round-trips bytes and metadata, in order, with per-key decode errors', async () => {
    const raw = new RawMapBackend('raw');
    const typed = toCacheBackend(raw);
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const expire = Date.now() + 60_000;
    expect(
      await setMany<unknown>(typed, [
        { key: k('bin'), value: new CacheValue(Array.from(bytes), expire, expire - 1000) },
        { key: k('text'), value: new CacheValue('hello') },
      ]),
    ).toEqual([undefined, undefined]);
    await raw.write(k('bad'), new CacheValue(new Uint8Array([0xff, 0x00])));
    const results = await getMany(typed, [k('text'), k('bin'), k('bad'), k('none')]);
    expect(data(results)).toEqual(['hello', Array.from(bytes), 'DESERIALIZE', undefined]);
    expect((results[1] as CacheValue<unknown>).expire).toBe(expire);
    expect((results[1] as CacheValue<unknown>).stale).toBe(expire - 1000);
  });
});

describe('breaker and faulty forward batches as one call', () => {
  it('a batch is one breaker call; retryable positions count as a failure; an open breaker fills every position', async () => {
    const clock = new Clock();
    const inner = faulty(new MapBackend('redis', clock, { async: true }));
    const guarded = breaker(inner, { failureThreshold: 2, openMs: 10_000, now: clock.now });
    await setMany(guarded, [{ key: k('a'), value: new CacheValue('A') }]);
    expect(inner.batchCalls.set).toBe(1);
    expect(data(await getMany(guarded, [k('a'), k('b')]))).toEqual(['A', undefined]);
    inner.inject({ kind: 'fail' }, ['get']);
    expect(data(await getMany(guarded, [k('a'), k('b')]))).toEqual(['CONNECTION', 'CONNECTION']);
    expect(guarded.circuit.state).toBe('closed');
    await getMany(guarded, [k('a')]);
    expect(guarded.circuit.state).toBe('open');
    const calls = inner.calls.get;
    expect(data(await getMany(guarded, [k('a'), k('b')]))).toEqual(['CIRCUIT_OPEN', 'CIRCUIT_OPEN']);
    expect(inner.calls.get).toBe(calls);
  });
});

describe('composition batches', () => {
  function setup(options: { readPolicy?: ReadPolicy; writePolicy?: WritePolicy; l1Async?: boolean } = {}) {
    const clock = new Clock();
    const m1 = new MapBackend('memory', clock, { async: options.l1Async === true });
    const m2 = new MapBackend('redis', clock, { async: true });
    const l1 = faulty(m1);
    const l2 = faulty(m2);
    const log = errorLog();
    const cache = compose(l1, l2, {
      now: clock.now,
      onError: log.onError,
      ...(options.readPolicy === undefined ? {} : { readPolicy: options.readPolicy }),
      ...(options.writePolicy === undefined ? {} : { writePolicy: options.writePolicy }),
    });
    return { clock, m1, m2, l1, l2, cache, log };
  }

  it('sequential: L1 first, ONE batched L2 read for the L1 misses only, refill with the same instants', async () => {
    const t = setup();
    t.m1.put(k('a'), value('A1', t.clock));
    const fromL2 = value('B2', t.clock);
    t.m2.put(k('b'), fromL2);
    t.m2.put(k('a'), value('A2', t.clock));
    const infos: ReadInfo[] = [{}, {}, {}, {}];
    const results = await getMany(t.cache, [k('a'), k('b'), k('c'), k('b')], infos);
    expect(data(results)).toEqual(['A1', 'B2', undefined, 'B2']);
    expect(infos.map((i) => i.source)).toEqual(['cache.memory', 'cache.redis', undefined, 'cache.redis']);
    expect(t.l2.batchCalls.get).toBe(1);
    expect(t.l2.calls.get).toBe(1);
    const refilled = t.m1.peek(k('b'));
    expect(refilled?.expire).toBe(fromL2.expire);
    expect(refilled?.stale).toBe(fromL2.stale);
    expect(t.m1.peek(k('c'))).toBeUndefined();
  });

  it('all L1 hits: answered synchronously, L2 never asked', () => {
    const t = setup();
    t.m1.put(k('a'), value('A', t.clock));
    const results = t.cache.getMany([k('a'), k('a')]);
    expect(Array.isArray(results)).toBe(true);
    expect(data(results as BatchRead<unknown>[])).toEqual(['A', 'A']);
    expect(t.l2.calls.get).toBe(0);
  });

  it('a stale L2 hit is returned but not refilled', async () => {
    const t = setup();
    t.m2.put(k('s'), value('S', t.clock, 1000, 60_000));
    t.clock.advance(2000);
    expect(data(await getMany(t.cache, [k('s')]))).toEqual(['S']);
    expect(t.m1.peek(k('s'))).toBeUndefined();
  });

  it('refill guard: a set of a key during the batched L2 read keeps the old value out of L1', async () => {
    const t = setup();
    t.m2.put(k('a'), value('old', t.clock));
    t.m2.put(k('b'), value('B', t.clock));
    t.l2.inject({ kind: 'hang', at: 'answer', times: 1 }, ['get']);
    const read = getMany(t.cache, [k('a'), k('b')]);
    await tick();
    await t.cache.set(k('a'), value('new', t.clock));
    t.l2.heal();
    expect(data(await read)).toEqual(['old', 'B']);
    expect(t.m1.peek(k('a'))?.data).toBe('new');
    expect(t.m1.peek(k('b'))?.data).toBe('B');
  });

  it('L2 failing as a whole: L1 hits are served, the misses hold the L2 error', async () => {
    const t = setup();
    t.m1.put(k('a'), value('A', t.clock));
    t.l2.inject({ kind: 'fail' }, ['get']);
    const results = await getMany(t.cache, [k('a'), k('b')]);
    expect(data(results)).toEqual(['A', 'CONNECTION']);
    expect((results[1] as CacheError).key).toBe(k('b').canonical);
  });

  it('an L1 failure: L2 hits answer (the L1 error reported), L2 misses hold the L1 error, as single reads', async () => {
    const t = setup();
    t.m2.put(k('a'), value('A', t.clock));
    t.l1.inject({ kind: 'fail', times: 1 }, ['get']);
    expect(data(await getMany(t.cache, [k('a'), k('b')]))).toEqual(['A', 'CONNECTION']);
    expect(t.log.events.map((e) => [e.layer, e.operation, e.key.parts[0]?.value])).toEqual([
      ['l1', 'get', 'a'],
    ]);
  });

  for (const readPolicy of ['race', 'parallel'] as const) {
    it(`${readPolicy}: both layers in one batch each, decided per key`, async () => {
      const t = setup({ readPolicy, l1Async: true });
      t.m1.put(k('a'), value('A1', t.clock, 10_000, 0));
      t.m2.put(k('a'), value('A2', t.clock, 90_000, 0));
      t.m2.put(k('b'), value('B2', t.clock));
      const results = await getMany(t.cache, [k('a'), k('b'), k('c')]);
      // parallel: the later expiry wins; race: an L1 hit wins.
      expect(data(results)).toEqual([readPolicy === 'parallel' ? 'A2' : 'A1', 'B2', undefined]);
      expect(t.l1.batchCalls.get).toBe(1);
      expect(t.l2.batchCalls.get).toBe(1);
      await t.cache.whenIdle();
      expect(t.m1.peek(k('b'))?.data).toBe('B2');
    });
  }

  it('setMany (parallel): one batch per layer; a key one layer failed on is repaired there and reported', async () => {
    const t = setup();
    t.m1.put(k('b'), value('old', t.clock));
    t.l1.inject({ kind: 'fail', times: 1 }, ['set']);
    const outcomes = await setMany(t.cache, [
      { key: k('a'), value: value('A', t.clock) },
      { key: k('b'), value: value('B', t.clock) },
    ]);
    expect(outcomes).toEqual([undefined, undefined]);
    expect(t.l2.batchCalls.set).toBe(1);
    expect(t.m2.peek(k('b'))?.data).toBe('B');
    // L1 failed as a whole: both keys repaired (deleted) in L1, so it never serves the old value.
    expect(t.m1.peek(k('b'))).toBeUndefined();
    expect(t.log.events.filter((e) => e.operation === 'set').length).toBe(2);
  });

  it('setMany (sequential): keys L2 failed on fail and are removed from L1', async () => {
    const t = setup({ writePolicy: 'sequential' });
    t.l2.inject({ kind: 'fail', times: 1 }, ['set']);
    const outcomes = await setMany(t.cache, [{ key: k('a'), value: value('A', t.clock) }]);
    expect(data(outcomes)).toEqual(['CONNECTION']);
    expect(t.m1.peek(k('a'))).toBeUndefined();
  });

  it('deleteMany sums the layers per key and reports a failed layer per key', async () => {
    const t = setup();
    t.m1.put(k('a'), value('A', t.clock));
    t.m2.put(k('a'), value('A', t.clock));
    t.m2.put(k('b'), value('B', t.clock));
    expect(await deleteMany(t.cache, [k('a'), k('b'), k('c'), k('a')])).toEqual([
      DeleteStatus.deleted(2),
      DeleteStatus.deleted(1),
      DeleteStatus.missing,
      DeleteStatus.missing,
    ]);
    t.l2.inject({ kind: 'fail', times: 1 }, ['delete']);
    expect(data(await deleteMany(t.cache, [k('a')]))).toEqual(['CONNECTION']);
  });

  it('nested compositions: the batch goes down the tiers, each refilled', async () => {
    const clock = new Clock();
    const top = new MapBackend('top', clock);
    const mid = new MapBackend('mid', clock);
    const far = faulty(new MapBackend('far', clock, { async: true }));
    const cache = compose(top, compose(mid, far, { label: 'inner', now: clock.now }), { now: clock.now });
    far.inner.put(k('a'), value('A', clock));
    mid.put(k('b'), value('B', clock));
    const infos: ReadInfo[] = [{}, {}];
    expect(data(await getMany(cache, [k('a'), k('b')], infos))).toEqual(['A', 'B']);
    expect(infos.map((i) => i.source)).toEqual(['cache.inner.far', 'cache.inner.mid']);
    expect(far.batchCalls.get).toBe(1);
    expect(top.peek(k('a'))?.data).toBe('A');
    expect(mid.peek(k('a'))?.data).toBe('A');
    expect(top.peek(k('b'))?.data).toBe('B');
  });

  it('setMany (parallel): a layer refusing with LEASE_LOST keeps its newer value; the other layer is repaired', async () => {
    const t = setup();
    t.m1.put(k('a'), value('newer', t.clock));
    t.l1.inject({ kind: 'fail', times: 1, error: new CacheError('LEASE_LOST', 'fenced') }, ['set']);
    expect(await setMany(t.cache, [{ key: k('a'), value: value('ours', t.clock) }])).toEqual([undefined]);
    expect(t.m1.peek(k('a'))?.data).toBe('newer');
    expect(t.m2.peek(k('a'))).toBeUndefined();
  });

  it('invalidatePrefix drops near copies under the prefix only, keeps L2, and voids L2 reads in flight', async () => {
    const clock = new Clock();
    const near = new MapBackend('memory', clock);
    const far = faulty(new MapBackend('redis', clock, { async: true }));
    const cache = compose(near, far, { now: clock.now, onError: () => {} });
    const a = new CacheKey('tenant:1', 0, [{ name: 'id', value: 'a' }]);
    const b = new CacheKey('tenant:2', 0, [{ name: 'id', value: 'b' }]);
    const c = new CacheKey('tenant:1', 0, [{ name: 'id', value: 'c' }]);
    // MapBackend has no clearPrefix: the whole L1 is cleared, which drops more than asked, never less.
    near.put(a, value('A', clock));
    far.inner.put(c, value('C', clock));
    far.inject({ kind: 'hang', at: 'answer', times: 1 }, ['get']);
    const read = getMany(cache, [c]);
    await tick();
    await cache.invalidatePrefix('tenant:1');
    far.heal();
    expect(data(await read)).toEqual(['C']);
    expect(near.peek(a)).toBeUndefined();
    expect(near.peek(c)).toBeUndefined();
    expect(far.inner.peek(c)?.data).toBe('C');
    expect(b.prefix).toBe('tenant:2');
  });
});
