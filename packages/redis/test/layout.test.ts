// What the backend leaves in Redis, read back with a plain client: the layout hitbox expects, and the fixes to
// hitbox's write (whole-entry replace, millisecond PEXPIREAT, sub-second TTLs that really expire).
import { bitcode, CacheKey, CacheValue } from '@cache/core';
import { json } from '@cache/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import {
  CLUSTER_NODES,
  clusterBackend,
  eventually,
  rawClient,
  rawCluster,
  singleBackend,
  sleep,
  uniqueNamespace,
} from './helpers.js';
import { rawCommand } from './servers.js';

const namespace = uniqueNamespace('layout');
const raw = await rawClient();
const redis = singleBackend({ namespace, valueFormat: json });
afterAll(async () => {
  await redis.clear();
  await redis.close();
  await raw.close();
});

function fields(hash: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(hash).map(([name, value]) => [name, value.toString()]));
}

describe('entry layout', () => {
  it('is one hash at namespace + url-encoded key with d, s, e, c, and the TTL set at the expire instant', async () => {
    const key = CacheKey.of('user', '42', { prefix: 'users', version: 3 });
    const now = Date.now();
    const value = new CacheValue({ name: 'Ada' }, now + 60_000, now + 10_000);
    await redis.set(key, value);

    const redisKey = `${namespace}_prefix=users&_version=3&user=42`;
    expect(redis.storeKey(key).toString()).toBe(redisKey);
    expect((await raw.type(redisKey)).toString()).toBe('hash');
    expect(fields(await raw.hGetAll(redisKey))).toEqual({
      d: '{"name":"Ada"}',
      s: String(now + 10_000),
      e: String(now + 60_000),
      c: 'json/none',
    });
    expect(await raw.pExpireTime(redisKey)).toBe(now + 60_000);
    const pttl = await raw.pTTL(redisKey);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('an overwrite removes every field and the TTL of the older write', async () => {
    const key = CacheKey.of('overwrite', '1');
    const redisKey = redis.storeKey(key);
    await redis.set(key, CacheValue.fromTtl('first', { ttlMs: 5_000, graceMs: 55_000 }));
    await raw.hSet(redisKey, 'extra', 'left by someone');
    await redis.set(key, new CacheValue('second'));

    expect(fields(await raw.hGetAll(redisKey))).toEqual({ d: '"second"', c: 'json/none' });
    expect(await raw.pTTL(redisKey)).toBe(-1);
    const read = await redis.get(key);
    expect(read?.data).toBe('second');
    expect(read?.expire).toBeUndefined();
    expect(read?.stale).toBeUndefined();
  });

  it('a 300 ms TTL gets a 300 ms PEXPIREAT and the key is gone after it', async () => {
    const key = CacheKey.of('short', 'ttl');
    const redisKey = redis.storeKey(key);
    await redis.set(key, CacheValue.fromTtl('brief', { ttlMs: 300 }));
    const pttl = await raw.pTTL(redisKey);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    await sleep(400);
    expect(await raw.exists(redisKey)).toBe(0);
    expect(await redis.get(key)).toBeUndefined();
  });

  it('writing an already expired value deletes the stored entry instead of storing it', async () => {
    const key = CacheKey.of('expired', 'write');
    const redisKey = redis.storeKey(key);
    await redis.set(key, CacheValue.fromTtl('live', { ttlMs: 60_000 }));
    await redis.set(key, new CacheValue('dead', Date.now() - 1));
    expect(await raw.exists(redisKey)).toBe(0);
    await redis.write(key, new CacheValue(new Uint8Array([1]), Date.now() - 1));
    expect(await raw.exists(redisKey)).toBe(0);
  });

  it('binary bitcode keys are stored byte for byte after the namespace', async () => {
    const binary = singleBackend({ namespace, keyFormat: bitcode, valueFormat: json });
    try {
      const key = CacheKey.of('id', '\u0000\u00ff', { version: 7 });
      await binary.set(key, new CacheValue('bytes'));
      const expected = Buffer.concat([Buffer.from(namespace), Buffer.from(bitcode.encode(key))]);
      expect(binary.storeKey(key).equals(expected)).toBe(true);
      expect((await raw.hGet(expected, 'd'))?.toString()).toBe('"bytes"');
    } finally {
      await binary.close();
    }
  });

  it('delete reports deleted then missing', async () => {
    const key = CacheKey.of('delete', 'me');
    await redis.set(key, new CacheValue(1));
    expect(await redis.delete(key)).toEqual({ kind: 'deleted', count: 1 });
    expect(await redis.delete(key)).toEqual({ kind: 'missing' });
  });
});

describe('clear', () => {
  it('removes the keys under the namespace and nothing else, with glob characters taken literally', async () => {
    const tricky = `${namespace}glob*?[x]\\:`;
    const inside = singleBackend({ namespace: tricky, valueFormat: json });
    // Matches the namespace read as a glob (glob, *, ?, [x], \:), but does not start with it literally.
    const sibling = `${namespace}globABx:other`;
    try {
      for (let i = 0; i < 1500; i++) await inside.set(CacheKey.of('n', String(i)), new CacheValue(i));
      await raw.set(sibling, 'must survive: matches the prefix as a glob, not literally');
      expect(await inside.clear()).toBe(1500);
      expect(await raw.exists(sibling)).toBe(1);
      expect(await inside.get(CacheKey.of('n', '1'))).toBeUndefined();
    } finally {
      await raw.del(sibling);
      await inside.close();
    }
  });

  it('refuses to clear without a namespace or prefix', async () => {
    const bare = singleBackend();
    try {
      await expect(bare.clear()).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    } finally {
      await bare.close();
    }
  });
});

describe('cluster layout', () => {
  it('writes the same hash on the key slot master, and clear reaches every master', async () => {
    const clusterNamespace = uniqueNamespace('layout-cluster');
    const cluster = clusterBackend({ namespace: clusterNamespace, valueFormat: json });
    const rawNodes = await rawCluster();
    try {
      const keys = Array.from({ length: 200 }, (_, i) => CacheKey.of('k', String(i)));
      for (const key of keys)
        await cluster.set(key, CacheValue.fromTtl({ k: key.canonical }, { ttlMs: 60_000 }));
      const sample = cluster.storeKey(keys[7] as CacheKey);
      const hash = fields(await rawNodes.hGetAll(sample));
      expect(Object.keys(hash).sort()).toEqual(['c', 'd', 'e']);
      expect(await rawNodes.pTTL(sample)).toBeGreaterThan(55_000);
      // 200 keys spread over the three masters; clear must find all of them.
      const mastersHolding = new Set<string>();
      for (const master of rawNodes.masters) {
        const client = await rawNodes.nodeClient(master);
        const found = await client.scan('0', { MATCH: `${clusterNamespace}*`, COUNT: 1000 });
        if (found.keys.length > 0) mastersHolding.add(master.address);
      }
      expect(mastersHolding.size).toBe(3);
      expect(await cluster.clear()).toBe(200);
      expect(await rawNodes.exists(sample)).toBe(0);
    } finally {
      await cluster.close();
      await rawNodes.close();
    }
  });
});

describe('reads from replicas', () => {
  it('with readFromReplicas, reads are served by replicas (their HMGET/PTTL counts grow) and still hit', async () => {
    const replicaNamespace = uniqueNamespace('replicas');
    const writer = clusterBackend({ namespace: replicaNamespace, valueFormat: json });
    const reader = new RedisBackend({
      cluster: { nodes: CLUSTER_NODES, readFromReplicas: true },
      namespace: replicaNamespace,
      valueFormat: json,
    });
    const seedPort = Number(CLUSTER_NODES[0]?.split(':')[1]);
    const replicaPorts = (await rawCommand(seedPort, 'CLUSTER', 'NODES'))
      .trim()
      .split('\n')
      .filter((line) => line.split(' ')[2]?.includes('slave'))
      .map((line) => Number(line.split(' ')[1]?.split('@')[0]?.split(':')[1]));
    const replicaReads = async () => {
      let calls = 0;
      for (const port of replicaPorts) {
        const stats = await rawCommand(port, 'INFO', 'commandstats');
        // node-redis picks master and replica in turn per shard, command by command: of the HMGET and PTTL of one
        // read, one goes to each. Count both.
        calls += Number(/cmdstat_hmget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
        calls += Number(/cmdstat_pttl:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      }
      return calls;
    };
    try {
      expect(replicaPorts.length).toBe(3);
      const keys = Array.from({ length: 30 }, (_, i) => CacheKey.of('r', String(i)));
      for (const key of keys) await writer.set(key, new CacheValue(key.canonical));
      const before = await replicaReads();
      for (const key of keys) {
        // Replication is asynchronous: a replica may not have the write yet.
        await eventually(async () => expect((await reader.get(key))?.data).toBe(key.canonical), 5_000, 20);
      }
      expect((await replicaReads()) - before).toBeGreaterThan(0);
      expect(await writer.clear()).toBe(30);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
