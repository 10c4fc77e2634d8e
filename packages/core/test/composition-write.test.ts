import { describe, expect, it } from 'vitest';
import {
  CacheError,
  CacheKey,
  CacheValue,
  type CompositionEvent,
  compose,
  DeleteStatus,
  faulty,
  isPromiseLike,
  type RaceLoserPolicy,
  type WritePolicy,
} from '../src/index.js';
import { Clock, errorLog, isPending, MapBackend, tick, value } from './composition-helpers.js';

function setup(
  writePolicy: WritePolicy,
  mode: 'sync' | 'async' = 'async',
  raceLoser: RaceLoserPolicy = 'background',
) {
  const clock = new Clock();
  const async = mode === 'async';
  const m1 = new MapBackend('memory', clock, { async });
  const m2 = new MapBackend('redis', clock, { async });
  const f1 = faulty(m1);
  const f2 = faulty(m2);
  const log = errorLog();
  const cache = compose(f1, f2, { writePolicy, raceLoser, onError: log.onError, now: clock.now });
  const key = CacheKey.of('k');
  // Both layers start with an older value, so a failed write shows whether it left that value behind.
  m1.put(key, value('old', clock));
  m2.put(key, value('old', clock));
  return { clock, m1, m2, f1, f2, log, cache, key };
}

async function failureOf(work: unknown): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const POLICIES: readonly WritePolicy[] = ['sequential', 'parallel', 'race'];

describe.each(POLICIES)('write policy %s', (policy) => {
  it('writes both layers with the exact expire and stale', async () => {
    for (const mode of ['sync', 'async'] as const) {
      const t = setup(policy, mode);
      const written = new CacheValue('new', t.clock.ms + 12_345, t.clock.ms + 678);
      await t.cache.set(t.key, written);
      await t.cache.whenIdle();
      for (const layer of [t.m1, t.m2]) {
        expect(layer.peek(t.key)).toEqual(written);
      }
      expect(t.log.events).toEqual([]);
    }
  });

  it('both layers failing is ALL_LAYERS_FAILED with both causes (sequential stops at L1)', async () => {
    const t = setup(policy);
    const e1 = new Error('memory down');
    const e2 = new Error('redis down');
    t.f1.inject({ kind: 'fail', error: e1 }, ['set']);
    t.f2.inject({ kind: 'fail', error: e2 }, ['set']);
    const error = await failureOf(t.cache.set(t.key, value('new', t.clock)));
    if (policy === 'sequential') {
      expect(CacheError.is(error, 'BACKEND')).toBe(true);
      expect((error as CacheError).cause).toBe(e1);
      expect(t.f2.calls.set).toBe(0);
    } else {
      expect(CacheError.is(error, 'ALL_LAYERS_FAILED')).toBe(true);
      const err = error as CacheError;
      expect(err.operation).toBe('set');
      expect(err.backend).toBe('cache');
      expect(err.key).toBe(t.key.canonical);
      expect(err.message).toContain('memory down');
      expect(err.message).toContain('redis down');
      const cause = err.cause as AggregateError;
      expect(cause).toBeInstanceOf(AggregateError);
      expect(cause.errors.map((e: CacheError) => [e.backend, e.cause])).toEqual([
        ['cache.memory', e1],
        ['cache.redis', e2],
      ]);
    }
    await t.cache.whenIdle();
    expect(t.log.events).toEqual([]);
  });

  it('a hung L2 write', async () => {
    const t = setup(policy);
    t.f2.inject({ kind: 'hang' }, ['set']);
    const write = t.cache.set(t.key, value('new', t.clock));
    // Only race answers before L2 does: the L1 write succeeded.
    expect(await isPending(write)).toBe(policy !== 'race');
    expect(t.m1.peek(t.key)?.data).toBe('new');
    t.f2.heal();
    await write;
    await t.cache.whenIdle();
    expect(t.m2.peek(t.key)?.data).toBe('new');
  });

  it('a hung L1 write', async () => {
    const t = setup(policy);
    t.f1.inject({ kind: 'hang' }, ['set']);
    const write = t.cache.set(t.key, value('new', t.clock));
    expect(await isPending(write)).toBe(policy !== 'race');
    expect(t.m2.peek(t.key)?.data).toBe(policy === 'sequential' ? 'old' : 'new');
    t.f1.heal();
    await write;
    await t.cache.whenIdle();
    expect(t.m1.peek(t.key)?.data).toBe('new');
    expect(t.m2.peek(t.key)?.data).toBe('new');
  });

  it('an already expired value removes the entry from both layers', async () => {
    const t = setup(policy);
    await t.cache.set(t.key, new CacheValue('gone', t.clock.ms - 1));
    await t.cache.whenIdle();
    expect(t.m1.peek(t.key)).toBeUndefined();
    expect(t.m2.peek(t.key)).toBeUndefined();
  });
});

describe('sequential writes are strict', () => {
  it('an L1 failure throws and L2 is not written', async () => {
    const t = setup('sequential');
    t.f1.inject({ kind: 'fail' }, ['set']);
    const error = await failureOf(t.cache.set(t.key, value('new', t.clock)));
    expect(CacheError.is(error, 'CONNECTION')).toBe(true);
    expect(t.f2.calls.set).toBe(0);
    expect(t.m2.peek(t.key)?.data).toBe('old');
  });

  it('an L2 failure throws, and L1 drops the new value so it never holds what L2 lacks', async () => {
    const t = setup('sequential');
    t.f2.inject({ kind: 'fail' }, ['set']);
    const error = await failureOf(t.cache.set(t.key, value('new', t.clock)));
    expect(CacheError.is(error, 'CONNECTION')).toBe(true);
    expect((error as CacheError).backend).toBe('redis');
    expect(t.m1.peek(t.key)).toBeUndefined();
    expect(t.log.events).toEqual([]);
  });

  it('a failed repair is reported', async () => {
    const t = setup('sequential');
    t.f2.inject({ kind: 'fail' }, ['set']);
    t.f1.inject({ kind: 'fail' }, ['delete']);
    await failureOf(t.cache.set(t.key, value('new', t.clock)));
    expect(t.log.events.map((e) => [e.layer, e.operation])).toEqual([['l1', 'repair']]);
    expect(t.log.events[0]?.error.operation).toBe('delete');
  });

  it('a synchronous L1 failure is thrown synchronously', () => {
    const t = setup('sequential', 'sync');
    t.f1.inject({ kind: 'fail', sync: true }, ['set']);
    expect(() => t.cache.set(t.key, value('new', t.clock))).toThrow(CacheError);
  });
});

describe('parallel writes are optimistic', () => {
  for (const failing of ['l1', 'l2'] as const) {
    it(`succeeds when only ${failing} fails, reports it, and removes the old value there`, async () => {
      for (const sync of [false, true]) {
        const t = setup('parallel', sync ? 'sync' : 'async');
        (failing === 'l1' ? t.f1 : t.f2).inject({ kind: 'fail', sync }, ['set']);
        await t.cache.set(t.key, value('new', t.clock));
        const [failed, stored] = failing === 'l1' ? [t.m1, t.m2] : [t.m2, t.m1];
        expect(stored.peek(t.key)?.data).toBe('new');
        expect(failed.peek(t.key)).toBeUndefined(); // repaired: no "old" left to serve
        expect(t.log.events.map((e) => [e.layer, e.operation, e.backend])).toEqual([
          [failing, 'set', failing === 'l1' ? 'cache.memory' : 'cache.redis'],
        ]);
        expect(CacheError.is(t.log.events[0]?.error, 'CONNECTION')).toBe(true);
      }
    });
  }

  it('reports a failed repair too', async () => {
    const t = setup('parallel');
    t.f2.inject({ kind: 'fail' }, ['set', 'delete']);
    await t.cache.set(t.key, value('new', t.clock));
    expect(t.log.events.map((e) => [e.layer, e.operation])).toEqual([
      ['l2', 'set'],
      ['l2', 'repair'],
    ]);
  });

  it('stays synchronous when both layers are', () => {
    const t = setup('parallel', 'sync');
    expect(isPromiseLike(t.cache.set(t.key, value('new', t.clock)))).toBe(false);
    expect(t.m2.peek(t.key)?.data).toBe('new');
  });
});

describe('race writes', () => {
  it('a synchronous L1 success answers synchronously while L2 is still writing', async () => {
    const clock = new Clock();
    const m1 = new MapBackend('memory', clock);
    const m2 = new MapBackend('redis', clock, { async: true });
    const cache = compose(m1, m2, { writePolicy: 'race', now: clock.now, onError: () => {} });
    const key = CacheKey.of('k');
    expect(isPromiseLike(cache.set(key, value('new', clock)))).toBe(false);
    expect(m1.peek(key)?.data).toBe('new');
    await cache.whenIdle();
    expect(m2.peek(key)?.data).toBe('new');
  });

  it('the first failure waits for the other layer, which wins', async () => {
    const t = setup('race');
    t.f1.inject({ kind: 'fail' }, ['set']);
    t.f2.inject({ kind: 'delay', ms: 5 }, ['set']);
    await t.cache.set(t.key, value('new', t.clock));
    expect(t.m2.peek(t.key)?.data).toBe('new');
    expect(t.m1.peek(t.key)).toBeUndefined(); // repaired
    expect(t.log.events.map((e) => [e.layer, e.operation])).toEqual([['l1', 'set']]);
  });

  for (const raceLoser of ['background', 'drop'] as const) {
    it(`a loser failing after the win is reported (${raceLoser}), and repaired only in the background policy`, async () => {
      const t = setup('race', 'async', raceLoser);
      const failing = faulty(t.m2).inject({ kind: 'fail' }, ['set']);
      // L2 = a store that rejects the write, answering only when let through.
      const slow = faulty(failing).inject({ kind: 'hang' }, ['set']);
      const cache = compose(t.m1, slow, {
        writePolicy: 'race',
        raceLoser,
        onError: t.log.onError,
        now: t.clock.now,
      });
      await cache.set(t.key, value('new', t.clock));
      expect(t.m1.peek(t.key)?.data).toBe('new');
      const idle = cache.whenIdle();
      expect(await isPending(idle)).toBe(raceLoser === 'background');
      slow.heal();
      await idle;
      await tick();
      await cache.whenIdle();
      expect(t.log.events.map((e) => [e.layer, e.operation])).toEqual([['l2', 'set']]);
      // Repair removes the old value the failed write left in L2; "drop" leaves it there.
      expect(t.m2.peek(t.key)?.data).toBe(raceLoser === 'background' ? undefined : 'old');
    });
  }
});

describe('delete', () => {
  it('reaches every layer and sums the counts', async () => {
    for (const policy of POLICIES) {
      const t = setup(policy);
      expect(await t.cache.delete(t.key)).toEqual(DeleteStatus.deleted(2));
      expect(await t.cache.delete(t.key)).toBe(DeleteStatus.missing);
      t.m2.put(t.key, value('v', t.clock));
      expect(await t.cache.delete(t.key)).toEqual(DeleteStatus.deleted(1));
      expect(t.f1.calls.delete).toBe(3);
      expect(t.f2.calls.delete).toBe(3);
    }
  });

  it('stays synchronous when both layers are', () => {
    const t = setup('parallel', 'sync');
    const status = t.cache.delete(t.key);
    expect(isPromiseLike(status)).toBe(false);
    expect(status).toEqual(DeleteStatus.deleted(2));
  });

  it('throws when one layer fails, after the other one deleted', async () => {
    for (const failing of ['l1', 'l2'] as const) {
      const t = setup('parallel');
      (failing === 'l1' ? t.f1 : t.f2).inject({ kind: 'fail' }, ['delete']);
      const error = await failureOf(t.cache.delete(t.key));
      expect(CacheError.is(error, 'CONNECTION')).toBe(true);
      expect((error as CacheError).backend).toBe(failing === 'l1' ? 'memory' : 'redis');
      expect((failing === 'l1' ? t.m2 : t.m1).peek(t.key)).toBeUndefined();
      expect(t.log.events).toEqual([]);
    }
  });

  it('both failing is ALL_LAYERS_FAILED', async () => {
    const t = setup('parallel');
    t.f1.inject({ kind: 'fail' }, ['delete']);
    t.f2.inject({ kind: 'fail', sync: true }, ['delete']);
    const error = await failureOf(t.cache.delete(t.key));
    expect(CacheError.is(error, 'ALL_LAYERS_FAILED')).toBe(true);
    expect((error as CacheError).operation).toBe('delete');
    expect(((error as CacheError).cause as AggregateError).errors).toHaveLength(2);
  });

  it('waits for a hung layer', async () => {
    const t = setup('parallel');
    t.f2.inject({ kind: 'hang' }, ['delete']);
    const deleted = t.cache.delete(t.key);
    expect(await isPending(deleted)).toBe(true);
    expect(t.m1.peek(t.key)).toBeUndefined();
    t.f2.heal();
    expect(await deleted).toEqual(DeleteStatus.deleted(2));
  });
});

describe('events', () => {
  it('set and delete through the composition are published once they succeed', async () => {
    const t = setup('parallel');
    const events: CompositionEvent[] = [];
    const unsubscribe = t.cache.subscribe((event) => events.push(event));
    const written = value('new', t.clock);
    await t.cache.set(t.key, written);
    await t.cache.delete(t.key);
    t.f1.inject({ kind: 'fail' }, ['set']);
    t.f2.inject({ kind: 'fail' }, ['set']);
    await failureOf(t.cache.set(t.key, written));
    unsubscribe();
    t.f1.heal();
    t.f2.heal();
    await t.cache.set(t.key, written);
    expect(events).toEqual([
      { type: 'set', key: t.key, value: written },
      { type: 'delete', key: t.key, status: DeleteStatus.deleted(2) },
    ]);
  });
});
