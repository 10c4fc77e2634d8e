import { type CacheBackend, faulty } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { vi } from 'vitest';
import { type CacheEvent, type CacheOptions, createCache } from '../src/index.js';

/** One clock for the cache, the memory store and the fake timers. */
export function clockedCache(options: Partial<CacheOptions> = {}) {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const memory = memoryBackend({ maxEntries: 1_000, now: Date.now });
  const store = faulty(memory as CacheBackend);
  const events: CacheEvent[] = [];
  const cache = createCache({
    store,
    now: Date.now,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return {
    cache,
    store,
    memory,
    events,
    /** Moves the clock and runs the timers due, letting promises settle in between. */
    advance: (ms: number) => vi.advanceTimersByTimeAsync(ms),
    /** Lets pending promise callbacks run. */
    settle: () => vi.advanceTimersByTimeAsync(0),
    ofType: <K extends CacheEvent['type']>(type: K) =>
      events.filter((e): e is Extract<CacheEvent, { type: K }> => e.type === type),
  };
}

/** A loader that counts its calls and answers after `ms` (0: at once) with `value` or `value(n)`. */
export function countingLoader<T>(value: T | ((call: number) => T), ms = 0) {
  let calls = 0;
  const loader = vi.fn(async () => {
    calls++;
    const n = calls;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    return typeof value === 'function' ? (value as (call: number) => T)(n) : value;
  });
  return Object.defineProperty(loader, 'calls', { get: () => calls }) as typeof loader & {
    readonly calls: number;
  };
}

/** A promise whose rejection, if any, is observed (so a test can assert it later without an unhandled one). */
export function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
