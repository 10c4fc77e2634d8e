import { describe, expect, it } from 'vitest';
import { CacheKey, CacheValue, LeasedValue, leaseOf, memoryLocks } from '../src/index.js';

const key = CacheKey.of('user', '1');

describe('memoryLocks', () => {
  it('gives a key to one holder at a time; renew and release need the token', async () => {
    const locks = memoryLocks();
    const first = await locks.acquire(key, { leaseMs: 10_000 });
    expect(first.acquired).toBe(true);
    const second = await locks.acquire(key, { leaseMs: 10_000 });
    expect(second).toMatchObject({ acquired: false });
    if (!first.acquired) throw new Error('unreachable');
    const forged = { ...first.lease, token: 'not-the-token' };
    expect(await locks.renew(forged)).toBe(false);
    expect(await locks.release(forged)).toBe(false);
    expect(locks.holds(first.lease)).toBe(true);
    expect(await locks.renew(first.lease)).toBe(true);
    expect(await locks.release(first.lease)).toBe(true);
    expect(await locks.release(first.lease)).toBe(false);
    const third = await locks.acquire(key, { leaseMs: 10_000 });
    if (!third.acquired) throw new Error('the key was released');
    expect(third.lease.fence).toBeGreaterThan(first.lease.fence);
    await locks.close();
    expect(locks.size).toBe(0);
  });

  it('ends a lease by itself and wakes the waiters', async () => {
    const locks = memoryLocks();
    const taken = await locks.acquire(key, { leaseMs: 20 });
    expect(taken.acquired).toBe(true);
    await locks.waitForRelease(key, { timeoutMs: 60_000 });
    expect(locks.size).toBe(0);
    expect((await locks.acquire(key, { leaseMs: 1000 })).acquired).toBe(true);
    await locks.close();
  });

  it('a wait ends at its timeout or abort when nothing is released', async () => {
    const locks = memoryLocks();
    await locks.acquire(key, { leaseMs: 60_000 });
    await locks.waitForRelease(key, { timeoutMs: 5 });
    const controller = new AbortController();
    const waiting = locks.waitForRelease(key, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await waiting;
    expect(locks.size).toBe(1);
    await locks.close();
  });

  it('a LeasedValue keeps its lease through withData', async () => {
    const locks = memoryLocks();
    const taken = await locks.acquire(key, { leaseMs: 1000 });
    if (!taken.acquired) throw new Error('free key');
    const value = new LeasedValue(CacheValue.fromTtl({ a: 1 }, { ttlMs: 1000, graceMs: 10 }, 0), taken.lease);
    const bytes = value.withData(new Uint8Array([1]));
    expect(leaseOf(bytes)).toBe(taken.lease);
    expect([bytes.expire, bytes.stale]).toEqual([1010, 1000]);
    expect(leaseOf(CacheValue.fromTtl(1))).toBeUndefined();
    await locks.close();
  });
});
