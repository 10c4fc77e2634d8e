import { describe, expect, it } from 'vitest';
import {
  type CacheBackend,
  CacheError,
  CacheKey,
  CacheValue,
  compose,
  DeleteStatus,
  faulty,
  isPromiseLike,
  type RaceLoserPolicy,
  type ReadInfo,
  type ReadPolicy,
} from '../src/index.js';
import { Clock, errorLog, isPending, MapBackend, tick, value } from './composition-helpers.js';

const POLICIES: readonly ReadPolicy[] = ['sequential', 'race', 'parallel'];

function setup(readPolicy: ReadPolicy, mode: 'sync' | 'async', raceLoser: RaceLoserPolicy = 'background') {
  const clock = new Clock();
  const async = mode === 'async';
  const m1 = new MapBackend('memory', clock, { async });
  const m2 = new MapBackend('redis', clock, { async });
  const f1 = faulty(m1);
  const f2 = faulty(m2);
  const log = errorLog();
  const cache = compose(f1, f2, { readPolicy, raceLoser, onError: log.onError, now: clock.now });
  return { clock, m1, m2, f1, f2, log, cache, key: CacheKey.of('k') };
}

type LayerState = 'hit' | 'miss' | 'fail';
const STATES: readonly LayerState[] = ['hit', 'miss', 'fail'];

describe.each(POLICIES)('read policy %s: the same error rule everywhere', (policy) => {
  for (const mode of ['sync', 'async'] as const) {
    for (const s1 of STATES) {
      for (const s2 of STATES) {
        it(`${mode} layers, L1 ${s1}, L2 ${s2}`, async () => {
          const t = setup(policy, mode);
          if (s1 === 'hit') t.m1.put(t.key, value('one', t.clock));
          if (s2 === 'hit') t.m2.put(t.key, value('two', t.clock));
          if (s1 === 'fail') t.f1.inject({ kind: 'fail', sync: mode === 'sync' }, ['get']);
          if (s2 === 'fail') t.f2.inject({ kind: 'fail', sync: mode === 'sync' }, ['get']);
          const info: ReadInfo = {};
          const read = async () => t.cache.get<string>(t.key, info);

          if (s1 !== 'hit' && s2 !== 'hit' && (s1 === 'fail' || s2 === 'fail')) {
            // No hit and at least one failure: the miss cannot be trusted, so the read throws.
            const error = await read().catch((e: unknown) => e);
            if (s1 === 'fail' && s2 === 'fail') {
              expect(CacheError.is(error, 'ALL_LAYERS_FAILED')).toBe(true);
              const cause = (error as CacheError).cause as AggregateError;
              expect(cause).toBeInstanceOf(AggregateError);
              expect(cause.errors.map((e: CacheError) => e.backend)).toEqual(['memory', 'redis']);
            } else {
              expect(CacheError.is(error, 'CONNECTION')).toBe(true);
              expect((error as CacheError).backend).toBe(s1 === 'fail' ? 'memory' : 'redis');
            }
            expect(info.source).toBeUndefined();
            await t.cache.whenIdle();
            expect(t.log.events).toEqual([]);
            return;
          }

          const got = await read();
          await t.cache.whenIdle();
          if (s1 === 'hit') {
            expect(got?.data).toBe('one');
            expect(info.source).toBe('cache.memory');
          } else if (s2 === 'hit') {
            expect(got?.data).toBe('two');
            expect(info.source).toBe('cache.redis');
            expect(t.m1.peek(t.key)?.data).toBe('two'); // refilled
          } else {
            expect(got).toBeUndefined();
            expect(info.source).toBeUndefined();
          }
          // Every failure of a layer that was asked, and not thrown, is reported exactly once.
          const expected = [];
          if (s1 === 'fail') expected.push('l1');
          if (s2 === 'fail' && t.f2.calls.get > 0) expected.push('l2');
          expect(t.log.events.map((e) => e.layer)).toEqual(expected);
          for (const event of t.log.events) {
            expect(event.operation).toBe('get');
            expect(event.composition).toBe('cache');
            expect(event.backend).toBe(event.layer === 'l1' ? 'cache.memory' : 'cache.redis');
            expect(event.key).toBe(t.key);
            expect(CacheError.is(event.error, 'CONNECTION')).toBe(true);
          }
        });
      }
    }
  }

  it('wraps an error that is not a CacheError, keeping it as the cause', async () => {
    const t = setup(policy, 'async');
    const boom = new Error('boom');
    t.f2.inject({ kind: 'fail', error: boom }, ['get']);
    const error = await Promise.resolve(t.cache.get(t.key)).catch((e: unknown) => e);
    expect(CacheError.is(error, 'BACKEND')).toBe(true);
    expect((error as CacheError).backend).toBe('cache.redis');
    expect((error as CacheError).operation).toBe('get');
    expect((error as CacheError).key).toBe(t.key.canonical);
    expect((error as CacheError).cause).toBe(boom);
  });

  it('an L1 hit served while L2 is down', async () => {
    const t = setup(policy, 'async');
    t.m1.put(t.key, value('one', t.clock));
    t.f2.inject({ kind: 'fail' });
    expect((await t.cache.get<string>(t.key))?.data).toBe('one');
  });
});

describe('sync fast path', () => {
  it('sequential: an L1 hit answered synchronously is returned synchronously, L2 untouched', () => {
    const t = setup('sequential', 'sync');
    t.m1.put(t.key, value('one', t.clock));
    const info: ReadInfo = {};
    const got = t.cache.get<string>(t.key, info);
    expect(isPromiseLike(got)).toBe(false);
    expect((got as CacheValue<string>).data).toBe('one');
    expect(info.source).toBe('cache.memory');
    expect(t.f2.calls.get).toBe(0);
    expect(isPromiseLike(t.cache.get(t.key))).toBe(false);
  });

  it('race: a synchronous L1 hit wins before L2 is asked', () => {
    const t = setup('race', 'sync');
    t.m1.put(t.key, value('one', t.clock));
    const got = t.cache.get<string>(t.key);
    expect(isPromiseLike(got)).toBe(false);
    expect(t.f2.calls.get).toBe(0);
  });

  it('every policy stays synchronous when both layers are', () => {
    for (const policy of POLICIES) {
      const t = setup(policy, 'sync');
      t.m2.put(t.key, value('two', t.clock));
      const info: ReadInfo = {};
      const got = t.cache.get<string>(t.key, info);
      expect(isPromiseLike(got)).toBe(false);
      expect((got as CacheValue<string>).data).toBe('two');
      expect(info.source).toBe('cache.redis');
      expect(t.m1.peek(t.key)?.data).toBe('two');
      expect(isPromiseLike(t.cache.get(CacheKey.of('absent')))).toBe(false);
    }
  });

  it('a synchronous hit that is not an instance of this copy of CacheValue is still a hit', () => {
    const clock = new Clock();
    const foreign = { data: 'one', expire: undefined, stale: undefined }; // from a duplicated @cache/core
    const l1: CacheBackend = {
      label: 'memory',
      get: <T>(_key: CacheKey, info?: ReadInfo) => {
        if (info !== undefined) info.source = 'memory';
        return foreign as unknown as CacheValue<T>;
      },
      set: () => {},
      delete: () => DeleteStatus.missing,
    };
    const l2 = faulty(new MapBackend('redis', clock));
    const info: ReadInfo = {};
    const got = compose(l1, l2).get(CacheKey.of('k'), info);
    expect(got).toBe(foreign);
    expect(info.source).toBe('cache.memory');
    expect(l2.calls.get).toBe(0);
  });

  it('an asynchronous L1 makes the read asynchronous', async () => {
    const t = setup('sequential', 'async');
    t.m1.put(t.key, value('one', t.clock));
    const got = t.cache.get<string>(t.key);
    expect(isPromiseLike(got)).toBe(true);
    expect((await got)?.data).toBe('one');
  });
});

describe('hangs and delays', () => {
  it('sequential: a hung L2 does not matter on an L1 hit, and blocks an L1 miss until it answers', async () => {
    const t = setup('sequential', 'async');
    t.m1.put(t.key, value('one', t.clock));
    t.m2.put(CacheKey.of('other'), value('two', t.clock));
    t.f2.inject({ kind: 'hang' }, ['get']);
    expect((await t.cache.get<string>(t.key))?.data).toBe('one');
    const miss = t.cache.get<string>(CacheKey.of('other'));
    expect(await isPending(miss)).toBe(true);
    t.f2.heal();
    expect((await miss)?.data).toBe('two');
  });

  it('sequential: a hung L1 blocks the read (the composition adds no deadline of its own)', async () => {
    const t = setup('sequential', 'async');
    t.m2.put(t.key, value('two', t.clock));
    t.f1.inject({ kind: 'hang' }, ['get']);
    const read = t.cache.get<string>(t.key);
    expect(await isPending(read)).toBe(true);
    expect(t.f1.hanging).toBe(1);
    t.f1.heal();
    expect((await read)?.data).toBe('two');
  });

  it('race: a hit from L2 wins while L1 hangs', async () => {
    const t = setup('race', 'async');
    t.m2.put(t.key, value('two', t.clock));
    t.f1.inject({ kind: 'hang' }, ['get']);
    const info: ReadInfo = {};
    expect((await t.cache.get<string>(t.key, info))?.data).toBe('two');
    expect(info.source).toBe('cache.redis');
    expect(t.m1.peek(t.key)?.data).toBe('two'); // refilled even though the L1 read is still out
  });

  it('race: a hit from L1 wins while L2 hangs', async () => {
    const t = setup('race', 'async');
    t.m1.put(t.key, value('one', t.clock));
    t.f2.inject({ kind: 'hang' }, ['get']);
    expect((await t.cache.get<string>(t.key))?.data).toBe('one');
  });

  it('race: the faster layer wins whichever it is', async () => {
    const t = setup('race', 'async');
    t.m1.put(t.key, value('one', t.clock));
    t.m2.put(t.key, value('two', t.clock));
    t.f1.inject({ kind: 'delay', ms: 20 }, ['get']);
    expect((await t.cache.get<string>(t.key))?.data).toBe('two');
    expect(t.m1.peek(t.key)?.data).toBe('two'); // the winner was refilled
    t.m1.put(t.key, value('one', t.clock));
    t.f1.heal();
    t.f2.inject({ kind: 'delay', ms: 20 }, ['get']);
    expect((await t.cache.get<string>(t.key))?.data).toBe('one');
  });

  it('race: a miss does not end the race, the other layer still can hit', async () => {
    const t = setup('race', 'async');
    t.m2.put(t.key, value('two', t.clock));
    t.f2.inject({ kind: 'delay', ms: 10 }, ['get']);
    expect((await t.cache.get<string>(t.key))?.data).toBe('two');
  });

  it('race: without a hit, a hung layer keeps the read waiting', async () => {
    const t = setup('race', 'async');
    t.f2.inject({ kind: 'hang' }, ['get']);
    const read = t.cache.get(t.key);
    expect(await isPending(read)).toBe(true);
    t.f2.heal();
    expect(await read).toBeUndefined();
  });

  it('race loser: a losing error is reported under both policies, followed (whenIdle) only under "background"', async () => {
    for (const raceLoser of ['background', 'drop'] as const) {
      const clock = new Clock();
      const m1 = new MapBackend('memory', clock, { async: true });
      const key = CacheKey.of('k');
      m1.put(key, value('one', clock));
      // L2 fails, but only once it is let through: after L1 has won.
      const failing = faulty(new MapBackend('redis', clock, { async: true })).inject({ kind: 'fail' }, [
        'get',
      ]);
      const slow = faulty(failing).inject({ kind: 'hang' }, ['get']);
      const log = errorLog();
      const cache = compose(m1, slow, {
        readPolicy: 'race',
        raceLoser,
        onError: log.onError,
        now: clock.now,
      });
      expect((await cache.get<string>(key))?.data).toBe('one');
      const idle = cache.whenIdle();
      expect(await isPending(idle)).toBe(raceLoser === 'background');
      expect(log.events).toEqual([]);
      slow.heal();
      await idle;
      await tick();
      expect(log.events.map((e) => [e.layer, e.operation, e.backend])).toEqual([
        ['l2', 'get', 'cache.redis'],
      ]);
    }
  });

  it('parallel: waits for both layers, so a hung L2 holds even an L1 hit', async () => {
    const t = setup('parallel', 'async');
    t.m1.put(t.key, value('one', t.clock));
    t.f2.inject({ kind: 'hang' }, ['get']);
    const read = t.cache.get<string>(t.key);
    expect(await isPending(read)).toBe(true);
    t.f2.heal();
    expect((await read)?.data).toBe('one');
  });
});

describe('parallel: the longer-lived live hit wins', () => {
  function both(e1: number | undefined, e2: number | undefined) {
    const t = setup('parallel', 'sync');
    const now = t.clock.ms;
    t.m1.put(t.key, new CacheValue('one', e1 === undefined ? undefined : now + e1, now + 1_000));
    t.m2.put(t.key, new CacheValue('two', e2 === undefined ? undefined : now + e2, now + 2_000));
    const info: ReadInfo = {};
    const got = t.cache.get<string>(t.key, info) as CacheValue<string>;
    return { t, got, info };
  }

  it('L2 expiring later wins and is refilled with its own expire and stale', () => {
    const { t, got, info } = both(10_000, 60_000);
    expect(got.data).toBe('two');
    expect(info.source).toBe('cache.redis');
    const refilled = t.m1.peek(t.key);
    expect(refilled?.data).toBe('two');
    expect(refilled?.expire).toBe(t.clock.ms + 60_000);
    expect(refilled?.stale).toBe(t.clock.ms + 2_000);
  });

  it('L2 that never expires beats L1 that does', () => {
    expect(both(60_000, undefined).got.data).toBe('two');
  });

  it('L1 wins when it lives longer, and on a tie', () => {
    expect(both(60_000, 10_000).got.data).toBe('one');
    expect(both(undefined, 60_000).got.data).toBe('one');
    expect(both(undefined, undefined).got.data).toBe('one');
    const tie = both(30_000, 30_000);
    expect(tie.got.data).toBe('one');
    expect(tie.t.m1.peek(tie.t.key)?.stale).toBe(tie.t.clock.ms + 1_000); // not overwritten
  });

  it('never returns a value that has expired by the composition clock', () => {
    // L2 runs on a clock 10 s behind: it still serves what the composition sees as expired.
    const clock = new Clock();
    const lagging = new Clock(clock.ms - 10_000);
    const m1 = new MapBackend('memory', clock);
    const m2 = new MapBackend('redis', lagging);
    const cache = compose(m1, m2, { readPolicy: 'parallel', now: clock.now, onError: () => {} });
    const key = CacheKey.of('k');
    m1.put(key, new CacheValue('one', clock.ms + 1_000));
    m2.put(key, new CacheValue('old', clock.ms - 1)); // expired now, live on L2's clock
    expect((cache.get<string>(key) as CacheValue<string>).data).toBe('one');
    m1.clear();
    expect(cache.get(key)).toBeUndefined();
    expect(m1.peek(key)).toBeUndefined();
  });
});
