// createCache({ locks: redisLocks(...) }) against real Redis: the fenced write of a leader whose lease ended, lease
// renewal for a loader slower than the lease, a Redis frozen with SIGSTOP while a lock is held (own server on
// 18300), and a master failover while locks are held (own 6-node cluster on 18310-18315). Counts and ordering
// only; the timeouts are hang guards.
import { randomBytes } from 'node:crypto';
import { type CacheBackend, CacheError, CacheValue, compose, faulty } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend, type RedisLocks, type RedisLocksOptions, redisLocks } from '@cache/redis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { rawClient } from '../../redis/test/helpers.js';
import { TestCluster, TestServer } from '../../redis/test/servers.js';
import { type Cache, type CacheEvent, createCache } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Instance {
  readonly cache: Cache;
  readonly redis: RedisBackend;
  readonly locks: RedisLocks;
  readonly events: CacheEvent[];
  /** Errors of the Redis tier the composition went on without (reported to its onError). */
  readonly tierErrors: unknown[];
}

/** One "process": memory in front of Redis, with locks fencing the Redis tier. */
function instance(
  target: { url: string } | { cluster: { nodes: string[] } },
  namespace: string,
  settings: Partial<RedisLocksOptions> = {},
  redisSettings: Record<string, unknown> = {},
): Instance {
  const redis = new RedisBackend({ ...target, namespace, ...redisSettings } as never);
  const locks = redisLocks({ ...target, backend: redis, pollMs: 100, ...settings } as RedisLocksOptions);
  const events: CacheEvent[] = [];
  const tierErrors: unknown[] = [];
  const store: CacheBackend = compose(memoryBackend({ maxEntries: 1000 }), redis, {
    onError: (event) => tierErrors.push(event),
  });
  const cache = createCache({ store, locks, onEvent: (event) => events.push(event) });
  cleanups.push(() => cache.close());
  return { cache, redis, locks, events, tierErrors };
}

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve(check()).catch(() => false))) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function raw(url: string) {
  const client = await rawClient(url);
  cleanups.push(() => client.close().then(() => undefined));
  return client;
}

describe('locks over the shared Redis', () => {
  it('a leader whose lease ended cannot overwrite the newer value: its write is refused (LEASE_LOST)', async () => {
    const namespace = `t:cache:locks-fence:${randomBytes(4).toString('hex')}:`;
    const a = instance({ url: REDIS_URL }, namespace);
    const b = instance({ url: REDIS_URL }, namespace);
    const client = await raw(REDIS_URL);
    const { opened, open } = gate();
    let started = false;
    const first = a.cache.getOrSet('fenced', async () => {
      started = true;
      await opened;
      return 'from a, late';
    });
    await until(() => started, 10_000);
    const lockKey = a.locks.lockKey(a.cache.key('fenced'));
    expect(await client.exists(lockKey.toString('latin1'))).toBe(1);
    // A's lease ends under it (a pause longer than the lease, a failover that lost the lock): here, the key goes.
    await client.del(lockKey.toString('latin1'));
    expect(await b.cache.getOrSet('fenced', () => 'from b')).toBe('from b');
    open();
    expect(await first).toBe('from a, late'); // A's callers get what A loaded...
    // The write to Redis was refused (the composition reports it and goes on: the memory tier has A's value).
    await until(() => a.tierErrors.some((e) => String(JSON.stringify(e)).includes('LEASE_LOST')), 10_000);
    // ...but the store keeps B's newer value, and A's memory tier dropped A's value for it.
    expect((await b.redis.get(b.cache.key('fenced')))?.data).toBe('from b');
    await until(async () => (await a.cache.get('fenced')) === 'from b', 10_000);
  }, 30_000);

  it('the leader reads the store again only when the lock saw the entry there: a value landed since its miss is served', async () => {
    const namespace = `t:cache:locks-reread:${randomBytes(4).toString('hex')}:`;
    const other = instance({ url: REDIS_URL }, namespace);
    const redis = new RedisBackend({ url: REDIS_URL, namespace });
    const locks = redisLocks({ url: REDIS_URL, backend: redis });
    let redisReads = 0;
    // The Redis tier, its reads counted (methods bound: the backend keeps private state).
    const counted = new Proxy(redis, {
      get(target, p) {
        const own = Reflect.get(target, p, target);
        if (p === 'get') {
          return (...args: unknown[]) => {
            redisReads++;
            return (own as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof own === 'function' ? own.bind(target) : own;
      },
    }) as RedisBackend;
    // Before the lock of 'landed' is taken, another process writes its value (between this one's miss and lock).
    const racing = {
      label: locks.label,
      leaseMs: locks.leaseMs,
      pollMs: locks.pollMs,
      acquire: async (...args: Parameters<RedisLocks['acquire']>) => {
        if (args[0].canonical.includes('"landed"')) {
          await other.redis.set(args[0], CacheValue.fromTtl('from the other process', { ttlMs: 60_000 }));
        }
        return locks.acquire(...args);
      },
      renew: (lease: Parameters<RedisLocks['renew']>[0]) => locks.renew(lease),
      release: (lease: Parameters<RedisLocks['release']>[0]) => locks.release(lease),
      waitForRelease: (...args: Parameters<RedisLocks['waitForRelease']>) => locks.waitForRelease(...args),
      close: () => locks.close(),
    };
    const cache = createCache({ store: compose(memoryBackend({ maxEntries: 100 }), counted), locks: racing });
    cleanups.push(() => cache.close());
    let loads = 0;
    expect(
      await cache.getOrSet('landed', () => {
        loads++;
        return 'loaded here';
      }),
    ).toBe('from the other process');
    expect(loads).toBe(0);
    expect(redisReads).toBe(2); // the miss, and the read after the lock that found the value
    redisReads = 0;
    expect(
      await cache.getOrSet('absent', () => {
        loads++;
        return 'loaded here';
      }),
    ).toBe('loaded here');
    expect(loads).toBe(1);
    expect(redisReads).toBe(1); // the miss only: the lock saw the entry absent
    // Written under the lease, and the lease ended with the write: the lock key is gone, the value is there.
    const client = await raw(REDIS_URL);
    await until(
      async () => (await client.exists(locks.lockKey(cache.key('absent')).toString('latin1'))) === 0,
      10_000,
    );
    expect((await other.redis.get(cache.key('absent')))?.data).toBe('loaded here');
  }, 30_000);

  it('a loader slower than the lease keeps it by renewing: the other process waits, never loads', async () => {
    const namespace = `t:cache:locks-renew:${randomBytes(4).toString('hex')}:`;
    const a = instance({ url: REDIS_URL }, namespace, { leaseMs: 200 });
    const b = instance({ url: REDIS_URL }, namespace, { leaseMs: 200 });
    const { opened, open } = gate();
    let loads = 0;
    const loader = async () => {
      loads++;
      await opened;
      return 'slow value';
    };
    const first = a.cache.getOrSet('slow', loader);
    await until(() => loads === 1, 10_000);
    const second = b.cache.getOrSet('slow', loader);
    await sleep(1200); // six leases
    expect(loads).toBe(1);
    open();
    expect(await Promise.all([first, second])).toEqual(['slow value', 'slow value']);
    expect(loads).toBe(1);
    expect(b.cache.stats().lockWaits).toBeGreaterThan(0);
  }, 30_000);
});

describe('the lock is released on the paths FusionCache leaked it (over Redis)', () => {
  it('#644: a load that skipped the write releases the lock; #646: so does a load whose memory write failed', async () => {
    const namespace = `t:cache:locks-leaks:${randomBytes(4).toString('hex')}:`;
    const redis = new RedisBackend({ url: REDIS_URL, namespace });
    const locks = redisLocks({ url: REDIS_URL, backend: redis, leaseMs: 60_000, pollMs: 60_000 });
    const memory = faulty(memoryBackend({ maxEntries: 100 }) as CacheBackend);
    const tierErrors: unknown[] = [];
    const store = compose(memory, redis, { onError: (event) => tierErrors.push(event) });
    const cache = createCache({ store, locks });
    cleanups.push(() => cache.close());
    const client = await raw(REDIS_URL);
    const locked = async (key: string) => client.exists(locks.lockKey(cache.key(key)).toString('latin1'));
    let held: number | undefined;
    const value = await cache.getOrSet('skipped', async (ctx) => {
      held = await locked('skipped');
      ctx.skip();
      return 'not stored';
    });
    expect([value, held]).toEqual(['not stored', 1]);
    await until(async () => (await locked('skipped')) === 0, 10_000);

    memory.inject({ kind: 'fail', error: new CacheError('BACKEND', 'memory full'), times: 1 }, ['set']);
    expect(await cache.getOrSet('memory-failed', () => 'loaded')).toBe('loaded');
    // The fenced Redis write releases the lock in its own script, which can come before the composition reports
    // the failed memory write: wait for both.
    await until(async () => (await locked('memory-failed')) === 0 && tierErrors.length > 0, 10_000);
    expect(tierErrors.length).toBeGreaterThan(0);
    // A second process would not wait a 60 s lease for either key: both are free.
    for (const key of ['skipped', 'memory-failed']) {
      const taken = await locks.acquire(cache.key(key));
      expect(taken.acquired).toBe(true);
      if (taken.acquired) await locks.release(taken.lease);
    }
  }, 30_000);
});

describe('a frozen Redis (SIGSTOP) while a lock is held', () => {
  it('deadline, fallback to the in-process lock, reported; after SIGCONT the locks are taken in Redis again', async () => {
    const server = new TestServer(18300);
    await server.start();
    cleanups.push(async () => {
      server.signal('SIGCONT');
      await server.stop({ hard: true });
    });
    const url = 'redis://127.0.0.1:18300';
    const namespace = 'frozen:';
    const fast = {
      responseTimeoutMs: 300,
      connectTimeoutMs: 300,
      breaker: { failureThreshold: 2, openMs: 300 },
    };
    const a = instance({ url }, namespace, { ...fast, leaseMs: 2000 }, fast);
    const client = await raw(url);
    expect(await a.cache.getOrSet('warm', () => 'warm')).toBe('warm');

    const { opened, open } = gate();
    let started = false;
    const held = a.cache.getOrSet('held', async () => {
      started = true;
      await opened;
      return 'held value';
    });
    await until(() => started, 10_000);
    const heldLock = a.locks.lockKey(a.cache.key('held')).toString('latin1');
    expect(await client.exists(heldLock)).toBe(1);

    server.signal('SIGSTOP');
    // Cold keys while Redis is frozen: every caller is answered (its own load), none waits for Redis.
    const loads = new Map<string, number>();
    const cold = Array.from({ length: 10 }, (_, i) => `cold-${i}`);
    const answers = await Promise.all(
      cold.flatMap((key) =>
        Array.from({ length: 5 }, () =>
          a.cache.getOrSet(key, () => {
            loads.set(key, (loads.get(key) ?? 0) + 1);
            return `value of ${key}`;
          }),
        ),
      ),
    );
    expect(answers).toEqual(cold.flatMap((key) => Array.from({ length: 5 }, () => `value of ${key}`)));
    expect([...loads.values()]).toEqual(cold.map(() => 1)); // the in-process lock still holds
    expect(a.cache.stats().lockFallbacks).toBeGreaterThan(0);
    const lockErrors = a.events.filter((e) => e.type === 'lock-error');
    expect(lockErrors.length).toBeGreaterThan(0);
    for (const e of lockErrors) {
      expect(['TIMEOUT', 'CIRCUIT_OPEN', 'CONNECTION']).toContain(
        (e as { error: { code: string } }).error.code,
      );
    }
    open();
    expect(await held).toBe('held value'); // its write and release fail within their deadlines

    server.signal('SIGCONT');
    // Recovery: a new load holds its lock in Redis again (the breaker closed after a probe).
    let n = 0;
    await until(async () => {
      const key = `after-${n++}`;
      let lockedInRedis = false;
      await a.cache.getOrSet(key, async () => {
        lockedInRedis = (await client.exists(a.locks.lockKey(a.cache.key(key)).toString('latin1'))) === 1;
        return 'after';
      });
      return lockedInRedis;
    }, 20_000);
    // Nothing is left without a TTL: the frozen leader's lock ends with its lease.
    for (const lockKey of await client.keys(`${namespace}lock:*`)) {
      expect(await client.pTTL(lockKey)).not.toBe(-1);
    }
    await until(async () => (await client.exists(heldLock)) === 0, 10_000);
  }, 60_000);
});

describe('a cluster master failover while locks are held', () => {
  const PORTS = [18310, 18311, 18312, 18313, 18314, 18315];
  const cluster = new TestCluster(PORTS);
  afterAll(() => cluster.stop());

  it('callers are answered during the failover; afterwards each key is loaded once again', async () => {
    await cluster.start();
    const target = { cluster: { nodes: PORTS.slice(0, 3).map((port) => `127.0.0.1:${port}`) } };
    const fast = {
      responseTimeoutMs: 500,
      connectTimeoutMs: 500,
      reconnect: { delayMs: 50, maxDelayMs: 500 },
    };
    const namespace = 'failover:';
    const a = instance(
      target,
      namespace,
      { ...fast, leaseMs: 3000, breaker: { failureThreshold: 3, openMs: 500 } },
      fast,
    );
    const b = instance(
      target,
      namespace,
      { ...fast, leaseMs: 3000, breaker: { failureThreshold: 3, openMs: 500 } },
      fast,
    );
    expect(await a.cache.getOrSet('warm', () => 'warm')).toBe('warm');
    expect(await b.cache.getOrSet('warm', () => 'never')).toBe('warm');

    const { opened, open } = gate();
    let started = false;
    const held = a.cache.getOrSet('victim', async () => {
      started = true;
      await opened;
      return 'victim value';
    });
    await until(() => started, 10_000);
    const slot = (await import('../../redis/src/locks/slot.js')).slotOf(
      a.locks.lockKey(a.cache.key('victim')),
    );
    const master = await cluster.masterOf(slot, PORTS[0] as number);
    await master.stop({ hard: true });

    // During the failover: b's callers of the same key and others are all answered (wait, poll or fall back).
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        b.cache.getOrSet(i % 2 === 0 ? 'victim' : `other-${i}`, () => `b ${i}`),
      ),
    );
    expect(during).toHaveLength(20);
    open();
    expect(await held).toBe('victim value');

    await cluster.waitHealthy(PORTS.filter((port) => port !== master.port));
    // Afterwards: both instances on fresh keys, each key loaded once in both together.
    const loads = new Map<string, number>();
    const keys = Array.from({ length: 20 }, (_, i) => `after-${i}`);
    // Once both stores read and write again and both lock stores take locks (their breakers probed the new
    // master)...
    for (const x of [a, b]) {
      await until(async () => {
        await x.redis.set(x.cache.key('probe'), CacheValue.fromTtl('p', { ttlMs: 60_000 }));
        return (await x.redis.get(x.cache.key('probe')))?.data === 'p';
      }, 30_000);
    }
    for (const x of [a, b]) {
      await until(async () => {
        const taken = await x.locks.acquire(x.cache.key('probe'));
        if (taken.acquired) await x.locks.release(taken.lease);
        return taken.acquired;
      }, 30_000);
    }
    await Promise.all(
      [a, b].flatMap((x) =>
        keys.flatMap((key) =>
          Array.from({ length: 10 }, () =>
            x.cache.getOrSet(key, async () => {
              loads.set(key, (loads.get(key) ?? 0) + 1);
              await sleep(20);
              return key;
            }),
          ),
        ),
      ),
    );
    expect([...loads.values()]).toEqual(keys.map(() => 1));
  }, 120_000);
});
