// redisLocks against the shared Redis servers (single node and the 6-node cluster): leases, tokens, fences,
// release notices, and the fenced write of a RedisBackend entry. Faults (a frozen server, a failover, processes
// killed mid-load) are in locks-faults.test.ts and packages/cache/test/locks-processes.test.ts.
import { CacheError, CacheKey, CacheValue, LeasedValue, type Lease } from '@cache/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type RedisBackend, RedisLease, type RedisLocks, redisLocks } from '../src/index.js';
import {
  CLUSTER_NODES,
  clusterBackend,
  REDIS_URL,
  rawClient,
  rawCluster,
  singleBackend,
  uniqueNamespace,
} from './helpers.js';

const modes = [
  {
    name: 'single node',
    backend: (namespace: string) => singleBackend({ namespace }),
    locks: (options: Partial<Parameters<typeof redisLocks>[0]>) =>
      redisLocks({ url: REDIS_URL, ...options } as Parameters<typeof redisLocks>[0]),
    raw: async () => {
      const client = await rawClient();
      return {
        send: (_key: Buffer, args: (string | Buffer)[]) => client.sendCommand(args),
        close: () => client.close(),
      };
    },
  },
  {
    name: 'cluster',
    backend: (namespace: string) => clusterBackend({ namespace }),
    locks: (options: Partial<Parameters<typeof redisLocks>[0]>) =>
      redisLocks({ cluster: { nodes: CLUSTER_NODES }, ...options } as Parameters<typeof redisLocks>[0]),
    raw: async () => {
      const cluster = await rawCluster();
      return {
        send: (key: Buffer, args: (string | Buffer)[]) => cluster.sendCommand(key, false, args),
        close: () => cluster.close(),
      };
    },
  },
];

function held(result: Awaited<ReturnType<RedisLocks['acquire']>>): Lease {
  if (!result.acquired) throw new Error('expected the lock to be free');
  return result.lease;
}

describe.each(modes)('redisLocks on $name', (mode) => {
  const namespace = uniqueNamespace(`locks-${mode.name.replace(' ', '-')}`);
  const backend: RedisBackend = mode.backend(namespace);
  const open: RedisLocks[] = [];
  const locks = (options: Partial<Parameters<typeof redisLocks>[0]> = {}) => {
    const store = mode.locks({ backend, ...options });
    open.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(open.map((store) => store.close()));
    await backend.clear();
    await backend.close();
  });

  it('one holder per key; renew and release act only with the token; every lock key has a TTL', async () => {
    const a = locks();
    const b = locks();
    const key = CacheKey.of('user', 'token');
    const lease = held(await a.acquire(key, { leaseMs: 5000 }));
    const other = await b.acquire(key, { leaseMs: 5000 });
    expect(other.acquired).toBe(false);
    if (!other.acquired) expect(other.retryInMs).toBeLessThanOrEqual(5000);
    const raw = await mode.raw();
    try {
      const lockKey = a.lockKey(key);
      expect(lockKey.toString('latin1').startsWith(`${namespace}lock:{`)).toBe(true);
      expect(Number(await raw.send(lockKey, ['PTTL', lockKey]))).toBeGreaterThan(0);
      const fenceKey = Buffer.from(lockKey.toString('latin1').replace('}L:', '}F:'), 'latin1');
      expect(Number(await raw.send(fenceKey, ['PTTL', fenceKey]))).toBeGreaterThan(0);
      // Another store's lease object with the right token would pass; a wrong token never does.
      const forged =
        a === b ? lease : Object.assign(Object.create(Object.getPrototypeOf(lease)), lease, { token: 'x' });
      expect(await a.renew(forged)).toBe(false);
      expect(await a.release(forged)).toBe(false);
      await expect(b.release(lease)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
      expect(await a.renew(lease)).toBe(true);
      expect(await a.release(lease)).toBe(true);
      expect(await a.release(lease)).toBe(false);
      expect(Number(await raw.send(lockKey, ['EXISTS', lockKey]))).toBe(0);
      const next = held(await b.acquire(key));
      expect(next.fence).toBeGreaterThan(lease.fence);
      expect(next.leaseMs).toBe(b.leaseMs);
      await b.release(next);
    } finally {
      await raw.close();
    }
  });

  it('a lease ends by itself when its holder stops renewing', async () => {
    const a = locks();
    const key = CacheKey.of('user', 'expires');
    const lease = held(await a.acquire(key, { leaseMs: 100 }));
    const b = locks();
    await b.waitForRelease(key, { timeoutMs: 150 });
    await new Promise((r) => setTimeout(r, 100));
    const again = held(await b.acquire(key, { leaseMs: 5000 }));
    expect(again.fence).toBeGreaterThan(lease.fence);
    expect(await a.renew(lease)).toBe(false);
    expect(await a.release(lease)).toBe(false);
    expect(await b.release(again)).toBe(true);
  });

  it('a release wakes a waiter in another store at once (a notice, not its poll)', async () => {
    const a = locks();
    const b = locks();
    const key = CacheKey.of('üser', 'notice ✓'); // non-ASCII bytes in the lock key and the notice
    const lease = held(await a.acquire(key, { leaseMs: 30_000 }));
    // The first wait opens the subscription and returns once it is in place (a release could precede it).
    await b.waitForRelease(key, { timeoutMs: 30_000 });
    let woken = false;
    const waiting = b.waitForRelease(key, { timeoutMs: 60_000 }).then(() => {
      woken = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(woken).toBe(false);
    expect(await a.release(lease)).toBe(true);
    await waiting; // a lost notice would hold this for 60 s: past the test's timeout
    expect(woken).toBe(true);
  }, 20_000);

  it('a write under a lease lands while the lease holds, and is refused with LEASE_LOST once it ended', async () => {
    const a = locks();
    const b = locks();
    const key = CacheKey.of('user', 'fenced');
    const lease = held(await a.acquire(key, { leaseMs: 5000 }));
    await backend.set(key, new LeasedValue(CacheValue.fromTtl({ v: 1 }, { ttlMs: 60_000 }), lease));
    expect((await backend.get<{ v: number }>(key))?.data).toEqual({ v: 1 });
    const raw = await mode.raw();
    try {
      const entry = backend.storeKey(key);
      expect(String(await raw.send(entry, ['HGET', entry, 'f']))).toBe(String(lease.fence));
      expect(Number(await raw.send(entry, ['PTTL', entry]))).toBeGreaterThan(0);
      await a.release(lease);
      // Another process takes over and writes a newer value; the old holder's late write must not replace it.
      const newer = held(await b.acquire(key, { leaseMs: 5000 }));
      await backend.set(key, new LeasedValue(CacheValue.fromTtl({ v: 2 }, { ttlMs: 60_000 }), newer));
      const late = backend.set(key, new LeasedValue(CacheValue.fromTtl({ v: 1 }, { ttlMs: 60_000 }), lease));
      await expect(late).rejects.toSatisfy((error: unknown) => CacheError.is(error, 'LEASE_LOST'));
      expect((await backend.get<{ v: number }>(key))?.data).toEqual({ v: 2 });
      await b.release(newer);
      // A plain write (no lease) is never fenced.
      await backend.set(key, CacheValue.fromTtl({ v: 3 }, { ttlMs: 60_000 }));
      expect((await backend.get<{ v: number }>(key))?.data).toEqual({ v: 3 });
      expect(await raw.send(entry, ['HGET', entry, 'f'])).toBeNull();
    } finally {
      await raw.close();
    }
  });

  it('with the backend, acquire says when the entry was absent as the lock was taken (nothing to read again)', async () => {
    const a = locks();
    const key = CacheKey.of('user', 'absent');
    const first = await a.acquire(key, { leaseMs: 5000 });
    expect(first.acquired && first.entryAbsent).toBe(true);
    await backend.set(key, new LeasedValue(CacheValue.fromTtl({ v: 1 }, { ttlMs: 60_000 }), held(first)));
    expect(await a.release(held(first))).toBe(true);
    // The entry is there now: the holder is not told it is absent (it reads the entry again).
    const second = await a.acquire(key, { leaseMs: 5000 });
    expect(second.acquired).toBe(true);
    expect(second.acquired && second.entryAbsent).toBeUndefined();
    await a.release(held(second));
    // Without the backend, the store cannot know: never told.
    const loose = mode.locks({ prefix: `${namespace}loose-absent:` });
    open.push(loose);
    const third = await loose.acquire(CacheKey.of('user', 'absent-2'));
    expect(third.acquired && third.entryAbsent).toBeUndefined();
    await loose.release(held(third));
  });

  it('a write that releases (LeasedValue.releases) ends the lease and wakes the waiters in its own script', async () => {
    const a = locks();
    const b = locks();
    const key = CacheKey.of('user', 'write-releases');
    const lease = held(await a.acquire(key, { leaseMs: 30_000 }));
    const raw = await mode.raw();
    try {
      const lockKey = a.lockKey(key);
      expect(await b.acquire(key)).toMatchObject({ acquired: false });
      let woken = false;
      const waiting = b.waitForRelease(key, { timeoutMs: 60_000 }).then(() => {
        woken = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      await backend.set(key, new LeasedValue(CacheValue.fromTtl({ v: 1 }, { ttlMs: 60_000 }), lease, true));
      expect((await backend.get<{ v: number }>(key))?.data).toEqual({ v: 1 });
      expect(await raw.send(lockKey, ['EXISTS', lockKey])).toBe(0); // no release command was sent
      await waiting; // a lost notice would hold this for 60 s: past the test's timeout
      expect(woken).toBe(true);
      // The release that follows has nothing left to do; a renewal says the lease is gone.
      expect(await a.release(lease)).toBe(true);
      expect(await a.renew(lease)).toBe(false);
      const next = held(await b.acquire(key, { leaseMs: 5000 }));
      // A refused releasing write (its lease ended) releases nothing: the new holder keeps the key.
      const late = backend.set(
        key,
        new LeasedValue(CacheValue.fromTtl({ v: 0 }, { ttlMs: 60_000 }), lease, true),
      );
      await expect(late).rejects.toSatisfy((error: unknown) => CacheError.is(error, 'LEASE_LOST'));
      expect(String(await raw.send(lockKey, ['GET', lockKey]))).toBe(next.token);
      expect((await backend.get<{ v: number }>(key))?.data).toEqual({ v: 1 });
      await b.release(next);
    } finally {
      await raw.close();
    }
  }, 20_000);

  it('locks of a store without the backend do not fence its writes', async () => {
    const loose = mode.locks({ prefix: `${namespace}loose:` });
    open.push(loose);
    const key = CacheKey.of('user', 'loose');
    const lease = held(await loose.acquire(key));
    await loose.release(lease);
    await backend.set(key, new LeasedValue(CacheValue.fromTtl('x', { ttlMs: 60_000 }), lease));
    expect((await backend.get(key))?.data).toBe('x');
  });

  it('many keys at once: each has exactly one holder', async () => {
    const stores = [locks(), locks(), locks()];
    const keys = Array.from({ length: 50 }, (_, i) => CacheKey.of('many', String(i)));
    const results = await Promise.all(
      keys.flatMap((key) => stores.map(async (store) => ({ key, result: await store.acquire(key) }))),
    );
    for (const key of keys) {
      const winners = results.filter((r) => r.key === key && r.result.acquired);
      expect(winners).toHaveLength(1);
    }
    await Promise.all(
      results.map(({ result }) =>
        result.acquired && result.lease instanceof RedisLease
          ? result.lease.owner.release(result.lease)
          : false,
      ),
    );
  });
});

describe('redisLocks on a node-redis client of yours', () => {
  it('takes, notifies and releases through your client (and a duplicate of it for notices), leaving it open', async () => {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url: REDIS_URL });
    client.on('error', () => undefined);
    await client.connect();
    const prefix = `${uniqueNamespace('locks-client')}lock:`;
    const mine = redisLocks({ client: client as never, prefix });
    const other = redisLocks({ url: REDIS_URL, prefix });
    const key = CacheKey.of('given', 'client');
    const lease = held(await mine.acquire(key));
    expect((await other.acquire(key)).acquired).toBe(false);
    await mine.waitForRelease(key, { timeoutMs: 30_000 }); // opens the notice subscription
    const woken = mine.waitForRelease(key, { timeoutMs: 60_000 });
    const theirs = await other.acquire(key);
    expect(theirs.acquired).toBe(false);
    expect(await mine.release(lease)).toBe(true);
    await woken;
    await mine.close();
    await other.close();
    expect(client.isOpen).toBe(true);
    await client.close();
  }, 20_000);
});

describe('redisLocks options and a dead server', () => {
  it('rejects bad options with INVALID_OPTIONS', () => {
    expect(() => redisLocks({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => redisLocks({ url: REDIS_URL, prefix: 'a{b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => redisLocks({ url: REDIS_URL, leaseMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => redisLocks({ url: REDIS_URL, pollMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('with nobody listening, acquire fails with a retryable CacheError, then CIRCUIT_OPEN at once; waits end at their timeout', async () => {
    const store = redisLocks({
      url: 'redis://127.0.0.1:18349',
      responseTimeoutMs: 200,
      connectTimeoutMs: 200,
      breaker: { failureThreshold: 2, openMs: 60_000 },
      password: 'secret-password',
    });
    const key = CacheKey.of('dead', '1');
    const errors: CacheError[] = [];
    for (let i = 0; i < 3; i++) {
      errors.push(
        await store.acquire(key).then(
          () => {
            throw new Error('acquired on a dead server');
          },
          (error: CacheError) => error,
        ),
      );
    }
    for (const error of errors) {
      expect(CacheError.is(error)).toBe(true);
      expect(error.retryable).toBe(true);
      expect(error.message).not.toContain('secret-password');
    }
    expect(errors[2]?.code).toBe('CIRCUIT_OPEN');
    await store.waitForRelease(key, { timeoutMs: 50 });
    await store.close();
    await expect(store.acquire(key)).rejects.toSatisfy((e: unknown) => CacheError.is(e));
  });
});
