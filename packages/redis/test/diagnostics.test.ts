// What @cache/redis publishes on diagnostics_channel: a cache:store trace per read, write, remove and clear, and
// coherence events on cache:event. Against the shared test Redis, with a unique namespace.
import dc from 'node:diagnostics_channel';
import {
  CacheKey,
  CacheValue,
  DIAGNOSTICS_CHANNELS,
  type DiagnosticsEvent,
  diagnostics,
  type StoreContext,
} from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { coherentTiers, RedisBackend } from '../src/index.js';
import { REDIS_URL, sleep, uniqueNamespace } from './helpers.js';

const closing: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const closable of closing) await closable.close();
});

/** Records each finished store trace (at asyncEnd), without its result. */
function recordStore() {
  const traces: Partial<StoreContext>[] = [];
  const channel = dc.tracingChannel(DIAGNOSTICS_CHANNELS.store);
  const handlers = {
    start: () => undefined,
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (context: object) => {
      const { result: _result, error, ...rest } = context as StoreContext;
      traces.push(error === undefined ? rest : { ...rest, error: (error as { code?: string }).code });
    },
    error: () => undefined,
  };
  channel.subscribe(handlers);
  return { traces, close: () => channel.unsubscribe(handlers) };
}

describe('diagnostics_channel', () => {
  it('traces read, write, remove and clear on cache:store with the payload bytes', async () => {
    const backend = new RedisBackend({
      url: REDIS_URL,
      namespace: uniqueNamespace('diagnostics'),
      label: 'users',
    });
    closing.push(backend);
    const key = CacheKey.of('user', '42');
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const store = recordStore();
    try {
      await backend.write(key, CacheValue.fromTtl(payload, { ttlMs: 60_000 }));
      expect([...((await backend.read(key))?.data ?? [])]).toEqual([...payload]);
      expect(await backend.read(CacheKey.of('user', 'none'))).toBeUndefined();
      expect((await backend.remove(key)).kind).toBe('deleted');
      expect(await backend.clear()).toBe(0);
    } finally {
      store.close();
    }
    const on = { backend: 'users', system: 'redis' } as const;
    expect(store.traces).toEqual([
      { ...on, operation: 'write', key: key.canonical, bytes: 5 },
      { ...on, operation: 'read', key: key.canonical, bytes: 5 },
      { ...on, operation: 'read', key: CacheKey.of('user', 'none').canonical },
      { ...on, operation: 'remove', key: key.canonical },
      { ...on, operation: 'clear', key: undefined },
    ]);
  });

  it('calls no tracePromise when nobody subscribes', async () => {
    const backend = new RedisBackend({ url: REDIS_URL, namespace: uniqueNamespace('diagnostics') });
    closing.push(backend);
    const channels = diagnostics();
    if (channels === undefined) throw new Error('Node has diagnostics_channel');
    expect(channels.store.hasSubscribers).toBe(false);
    const traced = vi.spyOn(channels.store, 'tracePromise');
    const key = CacheKey.of('k');
    await backend.set(key, CacheValue.fromTtl('v', { ttlMs: 60_000 }));
    expect((await backend.get(key))?.data).toBe('v');
    await backend.delete(key);
    expect(traced).not.toHaveBeenCalled();
    traced.mockRestore();
  });

  it('publishes coherence messages and trust changes on cache:event', async () => {
    const events: DiagnosticsEvent[] = [];
    const onEvent = (event: unknown) => events.push(event as DiagnosticsEvent);
    dc.subscribe(DIAGNOSTICS_CHANNELS.event, onEvent);
    try {
      const namespace = uniqueNamespace('diagnostics');
      const participant = () =>
        coherentTiers({
          l1: memoryBackend({ maxEntries: 100 }),
          l2: new RedisBackend({ url: REDIS_URL, namespace }),
          redis: { url: REDIS_URL },
          maxStalenessMs: 1_000,
          heartbeatIntervalMs: 100,
        });
      const a = participant();
      const b = participant();
      await Promise.all([a.whenTrusted(10_000), b.whenTrusted(10_000)]);
      const key = CacheKey.of('shared');
      await a.set(key, CacheValue.fromTtl(1, { ttlMs: 60_000 }));
      for (let i = 0; i < 100 && b.stats.received === 0; i++) await sleep(10);
      await a.close();
      await b.close();
      const label = a.label;
      const trust = events.filter((e) => e.type === 'coherence-trust');
      expect(trust).toEqual([
        { type: 'coherence-trust', backend: label, trusted: true },
        { type: 'coherence-trust', backend: label, trusted: true },
        { type: 'coherence-trust', backend: label, trusted: false },
        { type: 'coherence-trust', backend: label, trusted: false },
      ]);
      const messages = events.filter((e) => e.type === 'coherence-message');
      expect(messages.filter((e) => e.kind === 'invalidation')).toEqual([
        { type: 'coherence-message', backend: label, kind: 'invalidation' },
      ]);
      expect(messages.filter((e) => e.kind === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    } finally {
      dc.unsubscribe(DIAGNOSTICS_CHANNELS.event, onEvent);
    }
  });
});
