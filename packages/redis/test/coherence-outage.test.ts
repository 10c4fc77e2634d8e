// What the coherence layer says while Redis is away: a write that failed is never reported as having reached
// the cache, and each outage is reported once (the subscription until a heartbeat comes back, publishing until a
// publish goes through again), not once per write or heartbeat. Own server on port 18231; port 18230 stays closed.
import { CacheError, CacheKey } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, expect, it } from 'vitest';
import { type CoherenceErrorEvent, type CoherentTiers, coherentTiers, RedisBackend } from '../src/index.js';
import { value } from './coherence-helpers.js';
import { sleep, uniqueNamespace } from './helpers.js';
import { TestServer } from './servers.js';

const HEARTBEAT_MS = 100;

const opened: CoherentTiers[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  const closed = await Promise.allSettled(opened.map((tiers) => tiers.close()));
  await Promise.all(servers.map((server) => server.stop()));
  for (const result of closed) if (result.status === 'rejected') throw result.reason;
});

function participant(url: string): { tiers: CoherentTiers; errors: CoherenceErrorEvent[] } {
  const errors: CoherenceErrorEvent[] = [];
  const tiers = coherentTiers({
    l1: memoryBackend({ maxEntries: 100 }),
    l2: new RedisBackend({
      url,
      namespace: uniqueNamespace('coherence-outage'),
      responseTimeoutMs: 500,
      connectTimeoutMs: 500,
      reconnect: { delayMs: 20, maxDelayMs: 100 },
    }),
    redis: { url, connectTimeoutMs: 500 },
    maxStalenessMs: HEARTBEAT_MS * 4,
    heartbeatIntervalMs: HEARTBEAT_MS,
    publishTimeoutMs: 500,
    onError: (event) => errors.push(event),
  });
  opened.push(tiers);
  return { tiers, errors };
}

/** Sets that must all fail; returns their errors. */
async function failingSets(tiers: CoherentTiers, count: number): Promise<CacheError[]> {
  const failures: CacheError[] = [];
  for (let i = 0; i < count; i++) {
    const error = await tiers.set(CacheKey.of('outage', String(i)), value(i)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(CacheError.is(error)).toBe(true);
    failures.push(error as CacheError);
  }
  return failures;
}

const publishing = (errors: CoherenceErrorEvent[]) =>
  errors.filter((e) => e.operation === 'publish' || e.operation === 'heartbeat');
const subscribing = (errors: CoherenceErrorEvent[]) => errors.filter((e) => e.operation === 'subscribe');

it('closed port: a failed set never claims it reached the cache, and five of them are reported once', async () => {
  const { tiers, errors } = participant('redis://127.0.0.1:18230');
  const failures = await failingSets(tiers, 5);
  await sleep(HEARTBEAT_MS * 5);
  for (const failure of failures) expect(failure.message).not.toMatch(/reached the cache/);
  expect(failures.every((f) => f.retryable)).toBe(true);
  expect(publishing(errors)).toHaveLength(1);
  expect(subscribing(errors)).toHaveLength(1);
  const [report] = publishing(errors);
  expect(report?.operation).toBe('publish');
  expect(report?.error.message).toMatch(/set failed, and its invalidation could not be published either/);
  expect(report?.error.message).not.toMatch(/reached the cache/);
  expect(report?.error.retryable).toBe(true);
});

it('server stopped, restarted, stopped again: one report per outage, not one per write', async () => {
  const server = new TestServer(18231);
  servers.push(server);
  await server.start();
  const { tiers, errors } = participant('redis://127.0.0.1:18231');
  await tiers.whenTrusted(10_000);
  await tiers.set(CacheKey.of('outage', 'up'), value('up'));
  expect(errors).toEqual([]);

  await server.stop();
  await failingSets(tiers, 4);
  await sleep(HEARTBEAT_MS * 5);
  expect(publishing(errors)).toHaveLength(1);
  expect(subscribing(errors)).toHaveLength(1);

  await server.start();
  await tiers.whenTrusted(10_000);
  await tiers.set(CacheKey.of('outage', 'back'), value('back')); // publishing works again: that outage is over
  await sleep(HEARTBEAT_MS * 3);
  expect(errors).toHaveLength(2); // nothing new while Redis was up

  await server.stop();
  await failingSets(tiers, 4);
  await sleep(HEARTBEAT_MS * 5);
  expect(publishing(errors)).toHaveLength(2);
  expect(subscribing(errors)).toHaveLength(2);
  for (const event of errors) expect(event.error.message).not.toMatch(/reached the cache/);
});
