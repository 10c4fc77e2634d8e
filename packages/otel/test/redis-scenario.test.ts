// The scenario on real parts: a createCache over memory + a Redis this file starts itself (port 18600, never
// the shared ones), instrumented with the real SDK: L1 and L2 hits, misses that load, a stale serve, a loader
// failure with fail-safe, then Redis frozen (SIGSTOP) until the breaker opens. The counters must be exactly the
// scenario's, and agree with stats().
import { randomBytes } from 'node:crypto';
import { createCache } from '@cache/cache';
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { TestServer } from '../../redis/test/servers.js';
import { type Point, sdkPerTest, sortPoints } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PORT = 18600;
const DEADLINE_MS = 250;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const value = (points: readonly Point[] | undefined, attributes: Record<string, unknown>) =>
  (points ?? [])
    .filter((point) => Object.entries(attributes).every(([name, v]) => point.attributes[name] === v))
    .reduce((sum, point) => sum + (point.value ?? point.count ?? 0), 0);

describe('the scripted scenario over memory + a real Redis that stops answering', () => {
  const t = sdkPerTest();

  it('counts hits per tier, misses, stale and fail-safe serves, loader runs, Redis errors and the breaker opening', async () => {
    const server = new TestServer(PORT);
    await server.start();
    cleanups.push(async () => {
      server.signal('SIGCONT');
      await server.stop({ hard: true });
    });
    t.instrument({ meterProvider: t.sdk.meterProvider, traces: false });
    const near = memoryBackend({ maxEntries: 100, label: 'near' });
    const redis = new RedisBackend({
      url: `redis://127.0.0.1:${PORT}`,
      namespace: `otel-scenario:${randomBytes(4).toString('hex')}:`,
      responseTimeoutMs: DEADLINE_MS,
      breaker: { failureThreshold: 3, openMs: 60_000 },
    });
    const cache = createCache({
      store: compose(near, redis, { label: 'tiers', onError: () => undefined }),
      namespace: 'scenario',
    });
    cleanups.push(() => cache.close());
    const silenced = cache.on(() => undefined); // the failures below are the scenario's

    // Miss and load, L1 hit, L2 hit.
    expect(await cache.getOrSet('a', () => 'A')).toBe('A');
    // The write lands (until then a hit is answered "in-flight"): wait until Redis has it, then a little more.
    for (let i = 0; i < 200 && (await redis.get(cache.key('a'))) === undefined; i++) await sleep(10);
    await sleep(20);
    expect(await cache.getOrSet('a', () => 'not called')).toBe('A');
    near.delete(cache.key('a'));
    expect(await cache.getOrSet('a', () => 'not called')).toBe('A');
    // A stale value, then a loader that fails: fail-safe serves the stale value.
    await cache.set('s', 'old', { ttlMs: 30, graceMs: 60_000 });
    await sleep(50);
    const failing = async (): Promise<string> => {
      throw new Error('the database is down');
    };
    expect(await cache.getOrSet('s', failing, { stalePolicy: 'inline', ttlMs: 30, graceMs: 60_000 })).toBe(
      'old',
    );
    // Redis frozen: the first reads each wait out the deadline, then the breaker opens and reads skip Redis.
    server.signal('SIGSTOP');
    for (let i = 0; i < 5; i++) expect(await cache.getOrSet(`cold-${i}`, () => i)).toBe(i);
    await sleep(50); // the writes behind the loads give up too

    const metrics = await t.sdk.collect();
    const stats = cache.stats();
    silenced();
    const lookup = { 'cache.namespace': 'scenario:', 'cache.operation': 'lookup' };
    expect(metrics['cache.operations']).toEqual(
      sortPoints([
        { attributes: { ...lookup, 'cache.outcome': 'hit', 'cache.tier': 'tiers.near' }, value: 1 },
        { attributes: { ...lookup, 'cache.outcome': 'hit', 'cache.tier': 'tiers.redis' }, value: 1 },
        { attributes: { ...lookup, 'cache.outcome': 'miss' }, value: 6 },
        {
          attributes: { ...lookup, 'cache.outcome': 'stale', 'cache.fail_safe': true },
          value: 1,
        },
        { attributes: { 'cache.namespace': 'scenario:', 'cache.operation': 'set' }, value: 1 },
      ]),
    );
    expect(stats).toMatchObject({ hits: 2, misses: 6, staleHits: 1, failSafe: 1, sets: 1, breakerOpened: 1 });
    expect(metrics['cache.stale.served']).toEqual([
      { attributes: { 'cache.namespace': 'scenario:' }, value: 1 },
    ]);
    expect(metrics['cache.fail_safe.activations']).toEqual([
      { attributes: { 'cache.namespace': 'scenario:' }, value: 1 },
    ]);
    const runs = metrics['cache.loader.runs'];
    expect(value(runs, { 'cache.loader.outcome': 'loaded' })).toBe(6);
    expect(value(runs, { 'cache.loader.outcome': 'failed' })).toBe(1);
    expect(value(runs, {})).toBe(stats.loads);
    // The breaker opened once, and says so in its gauge.
    expect(metrics['cache.breaker.state_changes']).toEqual([
      {
        attributes: { 'cache.backend': 'redis', 'cache.breaker.from': 'closed', 'cache.breaker.to': 'open' },
        value: 1,
      },
    ]);
    expect(metrics['cache.breaker.state']).toEqual([{ attributes: { 'cache.backend': 'redis' }, value: 2 }]);
    // Redis operations: the ones before the freeze succeeded; frozen reads and writes failed with TIMEOUT until the
    // breaker had seen its three failures (operations already under way may add one or two), and later ones were
    // refused by the open breaker without reaching Redis (CIRCUIT_OPEN).
    const redisOps = metrics['db.client.operation.duration'];
    const timeouts = value(redisOps, { 'error.type': 'TIMEOUT' });
    expect(timeouts).toBeGreaterThanOrEqual(3);
    expect(timeouts).toBeLessThanOrEqual(5);
    expect(
      value(redisOps, { 'db.operation.name': 'read', 'error.type': 'CIRCUIT_OPEN' }),
    ).toBeGreaterThanOrEqual(1);
    // Reads before the freeze: the first miss, the L2 hit (and the test's own polls for the write).
    expect(value(redisOps, { 'db.operation.name': 'read', 'error.type': undefined })).toBeGreaterThanOrEqual(
      2,
    );
    for (const point of redisOps ?? []) {
      expect(point.attributes['db.system.name']).toBe('redis');
      expect(JSON.stringify(point.attributes)).not.toContain('otel-scenario'); // no keys, no namespace of Redis
    }
  });
});
