// Redis stopped, frozen or absent: every operation fails with a typed error within its deadline, nothing hangs,
// nothing escapes as an unhandled 'error' or rejection (vitest fails the run on those), and the same backend
// serves again once Redis is back. Each case runs its own server on ports 18000-18009. The breaker is off here:
// these cases are about the deadlines underneath it (breaker.test.ts has the breaker on a frozen server).
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { eventually, sleep, timed } from './helpers.js';
import { rawCommand, TestServer } from './servers.js';

const DEADLINE_MS = 400;
/** Slack for a loaded two-core machine; the point is "bounded", not "fast". */
const SLACK_MS = 1500;

const servers: TestServer[] = [];
const backends: RedisBackend[] = [];
afterAll(async () => {
  for (const backend of backends) await backend.close();
  for (const server of servers) await server.stop({ hard: true });
});

async function setUp(port: number, start = true): Promise<{ server: TestServer; redis: RedisBackend }> {
  const server = new TestServer(port);
  servers.push(server);
  if (start) await server.start();
  const redis = new RedisBackend({
    url: `redis://127.0.0.1:${port}`,
    responseTimeoutMs: DEADLINE_MS,
    connectTimeoutMs: 500,
    reconnect: { delayMs: 20, maxDelayMs: 200 },
    breaker: false,
  });
  backends.push(redis);
  return { server, redis };
}

/** Ids of the connections a server has, other than the one asking. */
async function connectionIds(port: number): Promise<string[]> {
  const list = await rawCommand(port, 'CLIENT', 'LIST');
  return list
    .split('\n')
    .filter((line) => line.startsWith('id=') && !line.includes('cmd=client|list'))
    .map((line) => line.split(' ')[0] as string);
}

const key = CacheKey.of('fault', 'key');
const value = CacheValue.fromTtl({ hello: 'world' }, { ttlMs: 600_000 });

/** Runs get, set and delete once each; every one must fail with one of `codes` within the deadline. */
async function expectAllFail(redis: RedisBackend, codes: readonly string[]): Promise<void> {
  for (const op of [() => redis.get(key), () => redis.set(key, value), () => redis.delete(key)]) {
    const { ms, error } = await timed(op);
    expect(CacheError.is(error), String(error)).toBe(true);
    expect(codes, String(error)).toContain((error as CacheError).code);
    expect((error as CacheError).retryable).toBe(true);
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
  }
}

describe('faults', () => {
  it('server stopped mid-run: operations fail within the deadline, then succeed after a restart', async () => {
    const { server, redis } = await setUp(18000);
    await redis.set(key, value);
    expect((await redis.get(key))?.data).toEqual({ hello: 'world' });

    await server.stop({ hard: true });
    await expectAllFail(redis, ['CONNECTION', 'TIMEOUT']);
    // Many at once, while the client keeps reconnecting in the background.
    const burst = await Promise.allSettled(Array.from({ length: 50 }, () => redis.get(key)));
    expect(burst.every((r) => r.status === 'rejected' && CacheError.is(r.reason))).toBe(true);

    await server.start({ fresh: true });
    await eventually(() => redis.set(key, value), 10_000);
    expect((await redis.get(key))?.data).toEqual({ hello: 'world' });
  });

  it('server frozen (SIGSTOP): operations fail with TIMEOUT within the deadline, and recover after SIGCONT', async () => {
    const { server, redis } = await setUp(18001);
    await redis.set(key, value);
    const before = await connectionIds(18001);
    expect(before).toHaveLength(1);

    server.signal('SIGSTOP');
    try {
      const first = await timed(() => redis.get(key));
      expect(CacheError.is(first.error, 'TIMEOUT'), String(first.error)).toBe(true);
      expect(first.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // Later ones may also end as CONNECTION: the backend drops a connection that stops answering PINGs.
      await expectAllFail(redis, ['TIMEOUT', 'CONNECTION']);
      const burst = await Promise.allSettled(Array.from({ length: 50 }, () => redis.get(key)));
      expect(burst.every((r) => r.status === 'rejected' && CacheError.is(r.reason))).toBe(true);
      // Stay frozen past the PING probe, so the backend has replaced its connection and is now waiting on a
      // new one that the frozen server never completes: still bounded.
      await sleep(1200);
      await expectAllFail(redis, ['TIMEOUT', 'CONNECTION']);
    } finally {
      server.signal('SIGCONT');
    }
    // The writes and deletes that timed out were sent and may still apply when the server resumes: a TIMEOUT on
    // a write means "unknown outcome". Recovery is judged on new operations.
    const after = CacheValue.fromTtl({ after: 'freeze' }, { ttlMs: 600_000 });
    await eventually(() => redis.set(key, after), 10_000);
    expect((await redis.get(key))?.data).toEqual({ after: 'freeze' });
    // The connection that stopped answering was dropped (PING probe) and replaced, not kept waiting forever:
    // what would save us from a half-open TCP connection, where no SIGCONT ever comes.
    await eventually(async () => {
      const now = await connectionIds(18001);
      expect(now).toHaveLength(1);
      expect(now).not.toEqual(before);
    }, 5_000);
  });

  it('server absent at the first operation: CONNECTION at once, then it serves once the server starts', async () => {
    const { server, redis } = await setUp(18002, false);
    const { ms, error } = await timed(() => redis.get(key));
    expect(CacheError.is(error, 'CONNECTION'), String(error)).toBe(true);
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    await server.start();
    await eventually(() => redis.set(key, value), 10_000);
    expect((await redis.get(key))?.data).toEqual({ hello: 'world' });
  });

  it('with finite retries the client gives up in the background, and the next operation starts a fresh one', async () => {
    const server = new TestServer(18006);
    servers.push(server);
    await server.start();
    const redis = new RedisBackend({
      url: 'redis://127.0.0.1:18006',
      responseTimeoutMs: DEADLINE_MS,
      connectTimeoutMs: 500,
      reconnect: { retries: 2, delayMs: 20, maxDelayMs: 50 },
      breaker: false,
    });
    backends.push(redis);
    await redis.set(key, value);
    await server.stop({ hard: true });
    await expectAllFail(redis, ['CONNECTION', 'TIMEOUT']);
    await sleep(500); // long enough for 2 retries to fail: the client is now closed for good
    // The next operation opens a fresh client, which fails and gives up in turn.
    await expectAllFail(redis, ['CONNECTION', 'TIMEOUT']);
    await sleep(500);
    await server.start();
    // Nobody reconnects in the background any more (with endless retries the client would be back within 50 ms)...
    await sleep(300);
    expect(await connectionIds(18006)).toEqual([]);
    // ...until an operation needs a connection.
    await eventually(() => redis.set(key, value), 5_000);
    expect((await redis.get(key))?.data).toEqual({ hello: 'world' });
    expect(await connectionIds(18006)).toHaveLength(1);
  });

  it('a closed backend fails with CLOSED and close() is idempotent', async () => {
    const { redis } = await setUp(18003);
    await redis.set(key, value);
    await redis.close();
    await redis.close();
    await expect(redis.get(key)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a backend closed while its server hangs still closes within the deadline', async () => {
    const { server, redis } = await setUp(18004);
    await redis.set(key, value);
    server.signal('SIGSTOP');
    try {
      const pending = redis.get(key).catch((e: unknown) => e);
      const { ms } = await timed(() => redis.close());
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      expect(CacheError.is(await pending)).toBe(true);
    } finally {
      server.signal('SIGCONT');
    }
  });
});
