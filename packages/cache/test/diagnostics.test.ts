import dc from 'node:diagnostics_channel';
import {
  breaker,
  CacheError,
  compose,
  DIAGNOSTICS_CHANNELS,
  type DiagnosticsEvent,
  diagnostics,
  faulty,
  type LoadContext,
  type OperationContext,
} from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../src/index.js';

/** What a subscriber sees: one record per finished trace (at asyncEnd) and per point event. */
type Recorded =
  | { readonly trace: 'operation'; readonly context: Partial<OperationContext> }
  | { readonly trace: 'load'; readonly context: Partial<LoadContext> }
  | { readonly trace: 'event'; readonly event: DiagnosticsEvent };

/** Subscribes to the channels of the contract with `node:diagnostics_channel` itself, as `@cache/otel` does. */
function subscribe() {
  const log: Recorded[] = [];
  const operation = dc.tracingChannel(DIAGNOSTICS_CHANNELS.operation);
  const load = dc.tracingChannel(DIAGNOSTICS_CHANNELS.load);
  const started: string[] = [];
  const pick = <C extends object>(context: C): Partial<C> => {
    const { result: _result, error, ...rest } = context as C & { result?: unknown; error?: unknown };
    return (error === undefined ? rest : { ...rest, error: (error as CacheError).code }) as Partial<C>;
  };
  const operations = {
    start: (context: object) => started.push((context as OperationContext).operation),
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (context: object) =>
      log.push({ trace: 'operation', context: pick(context as OperationContext) }),
    error: () => undefined,
  };
  const loads = {
    start: () => undefined,
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (context: object) => log.push({ trace: 'load', context: pick(context as LoadContext) }),
    error: () => undefined,
  };
  const onEvent = (event: unknown) => log.push({ trace: 'event', event: event as DiagnosticsEvent });
  operation.subscribe(operations);
  load.subscribe(loads);
  dc.subscribe(DIAGNOSTICS_CHANNELS.event, onEvent);
  return {
    log,
    started,
    /** The records so far, emptied. */
    take: () => log.splice(0),
    close: () => {
      operation.unsubscribe(operations);
      load.unsubscribe(loads);
      dc.unsubscribe(DIAGNOSTICS_CHANNELS.event, onEvent);
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function scenario() {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const near = memoryBackend({ maxEntries: 100, label: 'near', now: Date.now });
  const far = faulty(memoryBackend({ maxEntries: 100, label: 'far', now: Date.now }));
  const guarded = breaker(far, { failureThreshold: 2, openMs: 1_000, now: Date.now });
  const store = compose(near, guarded, { label: 'tiers', onError: () => undefined });
  const cache = createCache({
    store,
    namespace: 'app',
    now: Date.now,
    ttlMs: 1_000,
    graceMs: 60_000,
    fallbackTtlMs: 0,
    onEvent: () => undefined,
  });
  return { cache, near, far };
}

describe('diagnostics_channel', () => {
  it('traces getOrSet: miss and load, L1 hit, L2 hit (refilled), stale with a background refresh, fail-safe', async () => {
    const { cache, near } = scenario();
    const key = cache.key('a').canonical;
    const sub = subscribe();
    try {
      expect(await cache.getOrSet('a', () => 1)).toBe(1);
      const op = { operation: 'getOrSet', namespace: 'app:', key } as const;
      expect(sub.take()).toEqual([
        { trace: 'load', context: { namespace: 'app:', key, background: false, outcome: 'loaded' } },
        { trace: 'operation', context: { ...op, outcome: 'miss' } },
      ]);

      expect(await cache.getOrSet('a', () => 2)).toBe(1);
      expect(sub.take()).toEqual([
        { trace: 'operation', context: { ...op, outcome: 'hit', source: 'tiers.near' } },
      ]);

      near.delete(cache.key('a'));
      expect(await cache.getOrSet('a', () => 2)).toBe(1);
      expect(await cache.getOrSet('a', () => 2)).toBe(1);
      expect(sub.take()).toEqual([
        { trace: 'operation', context: { ...op, outcome: 'hit', source: 'tiers.far' } },
        { trace: 'operation', context: { ...op, outcome: 'hit', source: 'tiers.near' } },
      ]);

      await vi.advanceTimersByTimeAsync(1_500); // stale, within grace
      expect(await cache.getOrSet('a', () => 3)).toBe(1);
      await vi.advanceTimersByTimeAsync(0);
      expect(sub.take()).toEqual([
        { trace: 'operation', context: { ...op, outcome: 'stale', source: 'tiers.near' } },
        { trace: 'load', context: { namespace: 'app:', key, background: true, outcome: 'loaded' } },
      ]);
      expect(await cache.getOrSet('a', () => 4)).toBe(3);
      sub.take();

      await vi.advanceTimersByTimeAsync(1_500);
      const failing = () => {
        throw new Error('the database is down');
      };
      expect(await cache.getOrSet('a', failing, { stalePolicy: 'inline' })).toBe(3);
      expect(sub.take()).toEqual([
        {
          trace: 'load',
          context: { namespace: 'app:', key, background: false, outcome: 'failed', error: 'LOADER_FAILED' },
        },
        {
          trace: 'operation',
          context: { ...op, outcome: 'stale', source: 'tiers.near', failSafe: true },
        },
      ]);

      await expect(cache.getOrSet('b', failing)).rejects.toMatchObject({ code: 'LOADER_FAILED' });
      const b = cache.key('b').canonical;
      expect(sub.take()).toEqual([
        {
          trace: 'load',
          context: {
            namespace: 'app:',
            key: b,
            background: false,
            outcome: 'failed',
            error: 'LOADER_FAILED',
          },
        },
        {
          trace: 'operation',
          context: {
            operation: 'getOrSet',
            namespace: 'app:',
            key: b,
            outcome: 'miss',
            error: 'LOADER_FAILED',
          },
        },
      ]);
    } finally {
      sub.close();
      await cache.close();
    }
  });

  it('traces get, set, delete and clear, and a breaker reports its state changes once', async () => {
    const { cache, far } = scenario();
    const users = cache.namespace('users');
    const key = users.key('1').canonical;
    const sub = subscribe();
    try {
      await users.set('1', { name: 'Ada' });
      expect(await users.get('1')).toEqual({ name: 'Ada' });
      expect(await users.get('2')).toBeUndefined();
      expect(await users.delete('1')).toBe(true);
      await cache.clear();
      const ns = 'app:users:';
      expect(sub.take()).toEqual([
        { trace: 'operation', context: { operation: 'set', namespace: ns, key } },
        {
          trace: 'operation',
          context: { operation: 'get', namespace: ns, key, outcome: 'hit', source: 'tiers.near' },
        },
        {
          trace: 'operation',
          context: { operation: 'get', namespace: ns, key: users.key('2').canonical, outcome: 'miss' },
        },
        { trace: 'operation', context: { operation: 'delete', namespace: ns, key } },
        { trace: 'operation', context: { operation: 'clear', namespace: 'app:', key: undefined } },
      ]);

      far.inject({ kind: 'fail', error: new CacheError('TIMEOUT', 'far tier timed out') });
      for (let i = 0; i < 3; i++) await cache.getOrSet(`k${i}`, () => i);
      const events = sub.take().filter((r) => r.trace === 'event');
      expect(events).toEqual([
        {
          trace: 'event',
          event: { type: 'breaker', backend: 'far', from: 'closed', to: 'open', reason: 'failures' },
        },
      ]);
    } finally {
      sub.close();
      await cache.close();
    }
  });

  it('builds nothing and calls no tracePromise when nobody subscribes', async () => {
    const { cache } = scenario();
    const channels = diagnostics();
    expect(channels).toBeDefined();
    if (channels === undefined) return;
    expect(channels.operation.hasSubscribers).toBe(false);
    expect(channels.load.hasSubscribers).toBe(false);
    expect(channels.event.hasSubscribers).toBe(false);
    const operation = vi.spyOn(channels.operation, 'tracePromise');
    const load = vi.spyOn(channels.load, 'tracePromise');
    await cache.getOrSet('a', () => 1);
    for (let i = 0; i < 10; i++) await cache.getOrSet('a', () => 2);
    await cache.get('a');
    await cache.set('b', 2);
    await cache.delete('b');
    await cache.clear();
    expect(operation).not.toHaveBeenCalled();
    expect(load).not.toHaveBeenCalled();
    const sub = subscribe();
    try {
      await cache.getOrSet('a', () => 1);
      expect(operation).toHaveBeenCalledTimes(1);
    } finally {
      sub.close();
      await cache.close();
    }
  });
});
