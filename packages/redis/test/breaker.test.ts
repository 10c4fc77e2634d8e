// The circuit breaker RedisBackend uses by default, against a real server this file starts on its own ports
// (18040-18041) and freezes with SIGSTOP: once the breaker is open every operation fails at once with
// CIRCUIT_OPEN instead of waiting out the 2 s deadline, a composition's write and repair cost nothing, and
// after SIGCONT a probe closes the breaker. Bounds below are hang checks, not speed checks.
import {
  type BreakerStateChange,
  CacheError,
  CacheKey,
  CacheValue,
  type CompositionErrorEvent,
  compose,
} from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { eventually, sleep, timed } from './helpers.js';
import { TestServer } from './servers.js';

/** Well under the 2 s deadline: a call that took this long cannot have waited for it. */
const FAIL_FAST_MS = 500;
const OPEN_MS = 500;
const THRESHOLD = 3;

const servers: TestServer[] = [];
const backends: RedisBackend[] = [];
afterAll(async () => {
  for (const server of servers) server.signal('SIGCONT');
  for (const backend of backends) await backend.close();
  for (const server of servers) await server.stop({ hard: true });
});

async function setUp(port: number): Promise<{
  server: TestServer;
  redis: RedisBackend;
  changes: BreakerStateChange[];
}> {
  const server = new TestServer(port);
  servers.push(server);
  await server.start();
  const changes: BreakerStateChange[] = [];
  const redis = new RedisBackend({
    url: `redis://127.0.0.1:${port}`,
    namespace: 'breaker:',
    reconnect: { delayMs: 20, maxDelayMs: 200 },
    breaker: {
      failureThreshold: THRESHOLD,
      openMs: OPEN_MS,
      maxOpenMs: 2 * OPEN_MS,
      onStateChange: (change) => changes.push(change),
    },
  });
  backends.push(redis);
  return { server, redis, changes };
}

const key = CacheKey.of('breaker', 'key');
const value = CacheValue.fromTtl({ hello: 'world' }, { ttlMs: 600_000 });

/** Freezes the server and sends THRESHOLD reads at once: each pays the deadline, and the breaker opens. */
async function freezeAndOpen(server: TestServer, redis: RedisBackend): Promise<void> {
  server.signal('SIGSTOP');
  const reads = await Promise.allSettled(Array.from({ length: THRESHOLD }, () => redis.get(key)));
  for (const read of reads) {
    expect(read.status).toBe('rejected');
    const error = (read as PromiseRejectedResult).reason;
    expect(CacheError.is(error, 'TIMEOUT') || CacheError.is(error, 'CONNECTION'), String(error)).toBe(true);
  }
  expect(redis.circuit?.state).toBe('open');
}

/** The error `run` rejects with and how long it took; fails the test when it resolves. */
async function refusal(run: () => Promise<unknown>): Promise<{ ms: number; error: CacheError }> {
  const { ms, error } = await timed(run);
  expect(CacheError.is(error), String(error)).toBe(true);
  return { ms, error: error as CacheError };
}

describe('RedisBackend circuit breaker', () => {
  it('is on by default with the documented defaults, and off with breaker: false', async () => {
    const on = new RedisBackend({ url: 'redis://127.0.0.1:18049', label: 'sessions' });
    const off = new RedisBackend({ url: 'redis://127.0.0.1:18049', breaker: false });
    try {
      expect(on.circuit?.label).toBe('sessions');
      expect(on.circuit?.options).toMatchObject({
        failureThreshold: 5,
        openMs: 5_000,
        maxOpenMs: 60_000,
        halfOpenProbes: 1,
        maxInFlight: 1_000,
      });
      expect(off.circuit).toBeUndefined();
    } finally {
      await on.close();
      await off.close();
    }
  });

  it('frozen server: opens after the threshold, then fails fast with CIRCUIT_OPEN; after SIGCONT a probe closes it', async () => {
    const { server, redis, changes } = await setUp(18040);
    await redis.set(key, value);
    try {
      await freezeAndOpen(server, redis);
      expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([['closed', 'open', 'failures']]);
      expect(changes[0]?.backend).toBe('redis');

      const operations = [
        () => redis.get(key),
        () => redis.set(key, value),
        () => redis.delete(key),
        () => redis.clear(),
      ];
      for (const operation of operations) {
        const { ms, error } = await refusal(operation);
        expect(error.code, String(error)).toBe('CIRCUIT_OPEN');
        expect(error.retryable).toBe(true);
        expect(error.backend).toBe('redis');
        expect(error.message).toMatch(/redis: circuit breaker open .* next probe in \d+ ms/);
        expect(ms).toBeLessThan(FAIL_FAST_MS);
      }
      // Many at once: all refused at once, none reaches the frozen server.
      const burst = await timed(() => Promise.allSettled(Array.from({ length: 200 }, () => redis.get(key))));
      expect(burst.ms).toBeLessThan(FAIL_FAST_MS);
    } finally {
      server.signal('SIGCONT');
    }

    await sleep(OPEN_MS);
    const read = await eventually(() => redis.get<{ hello: string }>(key), 10_000);
    expect(read?.data).toEqual({ hello: 'world' });
    expect(redis.circuit?.state).toBe('closed');
    expect(changes.at(-1)).toMatchObject({ from: 'half-open', to: 'closed', reason: 'probe-succeeded' });
    expect(changes.some((c) => c.from === 'open' && c.to === 'half-open')).toBe(true);
    await redis.set(key, value);
    expect((await redis.get(key))?.data).toEqual({ hello: 'world' });
  });

  it('compose(memory, redis) with the breaker open: a miss and a write cost no deadline, the repair neither', async () => {
    const { server, redis } = await setUp(18041);
    const errors: CompositionErrorEvent[] = [];
    const cache = compose(memoryBackend({ maxEntries: 100 }), redis, {
      onError: (event) => errors.push(event),
    });
    const cold = CacheKey.of('breaker', 'cold');
    try {
      await freezeAndOpen(server, redis);

      // A miss in memory goes to Redis: refused at once.
      const miss = await refusal(async () => cache.get(cold));
      expect(miss.ms).toBeLessThan(FAIL_FAST_MS);
      expect(miss.error.code).toBe('CIRCUIT_OPEN');

      // The write that follows a miss: memory takes it, Redis refuses at once, and so does the repair that
      // removes the key from Redis; nothing waits for the frozen server.
      const write = await timed(async () => cache.set(cold, value));
      expect(write.error).toBeUndefined();
      expect(write.ms).toBeLessThan(FAIL_FAST_MS);
      expect(errors.map((e) => [e.operation, CacheError.is(e.error) && e.error.code])).toEqual([
        ['set', 'CIRCUIT_OPEN'],
        ['repair', 'CIRCUIT_OPEN'],
      ]);

      // Strict writes fail at once with the breaker's code, and memory drops what Redis lacks.
      const strict = compose(memoryBackend({ maxEntries: 100 }), redis, {
        writePolicy: 'sequential',
        onError: () => undefined,
      });
      const refused = await refusal(async () => strict.set(cold, value));
      expect(refused.error.code).toBe('CIRCUIT_OPEN');
      expect(refused.ms).toBeLessThan(FAIL_FAST_MS);
      expect(strict.l1.get(cold)).toBeUndefined();
    } finally {
      server.signal('SIGCONT');
    }
  });
});
