import { describe, expect, it } from 'vitest';
import {
  BreakerBackend,
  breaker,
  CacheError,
  CacheKey,
  type CompositionErrorEvent,
  compose,
  DeleteStatus,
  faulty,
} from '../src/index.js';
import { Clock, isPending, MapBackend, value } from './composition-helpers.js';
import { thrown } from './helpers/thrown.js';

const key = CacheKey.of('user', '42');

async function codeOf(result: unknown): Promise<string | undefined> {
  const error = await thrown(() => result);
  return CacheError.is(error) ? error.code : undefined;
}

describe('breaker(backend)', () => {
  it('is a backend with the inner label; a synchronous hit stays synchronous', () => {
    const clock = new Clock();
    const memory = new MapBackend('memory', clock);
    const guarded = breaker(memory, { now: clock.now });
    expect(guarded).toBeInstanceOf(BreakerBackend);
    expect(guarded.label).toBe('memory');
    expect(guarded.set(key, value('v', clock))).toBeUndefined();
    const info: { source?: string } = {};
    const hit = guarded.get<string>(key, info);
    expect(hit).not.toBeInstanceOf(Promise);
    expect((hit as { data: string } | undefined)?.data).toBe('v');
    expect(info.source).toBe('memory');
    expect(guarded.delete(key)).not.toBeInstanceOf(Promise);
    expect(guarded.circuit.inFlight).toBe(0);
  });

  it('opens after consecutive store failures and then refuses get, set, delete and clear without calling', async () => {
    const clock = new Clock();
    const inner = faulty(new MapBackend('remote', clock, { async: true }));
    const guarded = breaker(inner, { failureThreshold: 2, openMs: 1_000, now: clock.now });
    inner.inject({ kind: 'fail' });
    await thrown(() => guarded.get(key));
    await thrown(() => guarded.set(key, value('v', clock)));
    expect(guarded.circuit.state).toBe('open');
    const before = inner.calls;
    const error = await thrown(() => guarded.get(key));
    expect(CacheError.is(error, 'CIRCUIT_OPEN')).toBe(true);
    expect((error as CacheError).backend).toBe('remote');
    expect((error as CacheError).operation).toBe('get');
    expect((error as CacheError).key).toBe(key.canonical);
    expect(await codeOf(guarded.set(key, value('v', clock)))).toBe('CIRCUIT_OPEN');
    expect(await codeOf(guarded.delete(key))).toBe('CIRCUIT_OPEN');
    expect(inner.calls).toEqual(before);

    inner.heal();
    clock.advance(1_000);
    expect(await guarded.get(key)).toBeUndefined();
    expect(guarded.circuit.state).toBe('closed');
  });

  it('has clear() only when the inner backend has one, and close() always goes through', async () => {
    const clock = new Clock();
    const memory = new MapBackend('memory', clock);
    const withClear = breaker(memory, { failureThreshold: 1, now: clock.now });
    memory.put(key, value('v', clock));
    await withClear.clear?.();
    expect(memory.peek(key)).toBeUndefined();
    const noClear = breaker({
      label: 'x',
      get: () => undefined,
      set: () => undefined,
      delete: () => DeleteStatus.missing,
    });
    expect(noClear.clear).toBeUndefined();

    let closed = false;
    let cleared = false;
    const down = breaker(
      {
        label: 'down',
        get: () => Promise.reject(new CacheError('TIMEOUT', 'down')),
        set: () => undefined,
        delete: () => DeleteStatus.missing,
        clear: () => {
          cleared = true;
        },
        close: async () => {
          closed = true;
        },
      },
      { failureThreshold: 1, now: clock.now },
    );
    await thrown(() => down.get(key));
    expect(down.circuit.state).toBe('open');
    expect(await codeOf(down.clear?.())).toBe('CIRCUIT_OPEN');
    expect(cleared).toBe(false);
    await down.close();
    expect(closed).toBe(true);
  });

  it('a value that does not deserialize is a data problem: it never opens the breaker', async () => {
    const clock = new Clock();
    const inner = faulty(new MapBackend('remote', clock, { async: true }));
    const guarded = breaker(inner, { failureThreshold: 1, now: clock.now });
    inner.inject({ kind: 'fail', error: new CacheError('DESERIALIZE', 'bad bytes') });
    for (let i = 0; i < 5; i++) expect(await codeOf(guarded.get(key))).toBe('DESERIALIZE');
    expect(guarded.circuit.state).toBe('closed');
  });

  it.each(['parallel', 'sequential'] as const)(
    'in a composition (%s writes): with L2 open, a write and its repair settle without waiting on L2',
    async (writePolicy) => {
      const clock = new Clock();
      const memory = new MapBackend('memory', clock);
      const remote = faulty(new MapBackend('redis', clock, { async: true }));
      const l2 = breaker(remote, { failureThreshold: 2, now: clock.now });
      const events: CompositionErrorEvent[] = [];
      const cache = compose(memory, l2, { writePolicy, onError: (e) => events.push(e) });

      remote.inject({ kind: 'fail' });
      await Promise.resolve()
        .then(() => cache.set(key, value('a', clock)))
        .catch(() => undefined);
      await Promise.resolve()
        .then(() => cache.set(key, value('b', clock)))
        .catch(() => undefined);
      expect(l2.circuit.state).toBe('open');

      // L2 now hangs: an open breaker lets no call reach it, so nothing below can wait on it.
      remote.inject({ kind: 'hang' });
      events.length = 0;
      const settled = Promise.resolve(cache.set(key, value('c', clock))).then(
        () => 'stored in L1',
        (error: unknown) => (CacheError.is(error) ? error.code : 'other'),
      );
      expect(await isPending(settled)).toBe(false);
      expect(remote.hanging).toBe(0);
      if (writePolicy === 'sequential') {
        // Strict: the write fails with the breaker's code, and L1 dropped the value L2 lacks.
        expect(await settled).toBe('CIRCUIT_OPEN');
        expect(memory.peek(key)).toBeUndefined();
      } else {
        // Optimistic: L1 holds it; the failed half and its repair are reported, both refused at once.
        expect(await settled).toBe('stored in L1');
        expect(events.map((e) => [e.operation, CacheError.is(e.error) && e.error.code])).toEqual([
          ['set', 'CIRCUIT_OPEN'],
          ['repair', 'CIRCUIT_OPEN'],
        ]);
      }
      remote.heal();
    },
  );
});
