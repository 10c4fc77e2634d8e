// Connection handling: lazy connect shared by concurrent first calls, bring-your-own clients (connected if needed,
// never closed, no listener left behind), options validation that never echoes a URL.
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { json } from '@cache/formats';
import { createClient, createCluster } from '@redis/client';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { CLUSTER_NODES, eventually, REDIS_URL, uniqueNamespace } from './helpers.js';
import { rawCommand, TestServer } from './servers.js';

const namespace = uniqueNamespace('connection');
const key = CacheKey.of('conn', 'key');

const LAZY_PORT = 18005;
const server = new TestServer(LAZY_PORT);
await server.start();
afterAll(() => server.stop({ hard: true }));

/** Connections to `port` other than the one asking. */
async function otherClients(port: number): Promise<number> {
  const list = await rawCommand(port, 'CLIENT', 'LIST');
  return list.split('\n').filter((line) => line.startsWith('id=') && !line.includes('cmd=client|list'))
    .length;
}

describe('lazy connection', () => {
  it('opens nothing until the first operation, then one connection for 100 concurrent first calls', async () => {
    const redis = new RedisBackend({ url: `redis://127.0.0.1:${LAZY_PORT}`, namespace });
    try {
      expect(await otherClients(LAZY_PORT)).toBe(0);
      const results = await Promise.all(Array.from({ length: 100 }, () => redis.get(key)));
      expect(results.every((r) => r === undefined)).toBe(true);
      expect(await otherClients(LAZY_PORT)).toBe(1);
    } finally {
      await redis.close();
    }
    // The server notices the closed socket a moment later.
    await eventually(async () => expect(await otherClients(LAZY_PORT)).toBe(0), 5_000, 50);
  });
});

describe('bring your own client', () => {
  it('uses a connected client, leaves it open on close and removes its listeners', async () => {
    const client = createClient({ url: REDIS_URL });
    client.on('error', () => {});
    await client.connect();
    const before = client.eventNames().map((name) => [name, client.listenerCount(name)]);
    const redis = new RedisBackend({ client, namespace, valueFormat: json });
    await redis.set(key, new CacheValue('byo'));
    expect((await redis.get(key))?.data).toBe('byo');
    expect(client.listenerCount('error')).toBeGreaterThan(1);
    await redis.close();
    expect(client.isOpen).toBe(true);
    expect(client.eventNames().map((name) => [name, client.listenerCount(name)])).toEqual(before);
    expect(await client.hGet(redis.storeKey(key), 'd')).toBe('"byo"');
    await client.del(redis.storeKey(key));
    await client.close();
  });

  it('connects a client that is not open yet, on first use', async () => {
    const client = createClient({ url: REDIS_URL });
    const redis = new RedisBackend({ client, namespace, valueFormat: json });
    expect(client.isOpen).toBe(false);
    expect(await redis.get(key)).toBeUndefined();
    expect(client.isReady).toBe(true);
    await redis.close();
    expect(client.isOpen).toBe(true);
    await client.close();
  });

  it('a client closed by its owner gives CONNECTION, not a reopened client', async () => {
    const client = createClient({ url: REDIS_URL });
    client.on('error', () => {});
    await client.connect();
    const redis = new RedisBackend({ client, namespace });
    await redis.get(key);
    await client.close();
    await expect(redis.get(key)).rejects.toMatchObject({ code: 'CONNECTION' });
    expect(client.isOpen).toBe(false);
    await redis.close();
  });

  it('uses your cluster client and leaves it open', async () => {
    const cluster = createCluster({ rootNodes: CLUSTER_NODES.map((node) => ({ url: `redis://${node}` })) });
    cluster.on('error', () => {});
    await cluster.connect();
    const errorListeners = cluster.listenerCount('error');
    const redis = new RedisBackend({ clusterClient: cluster, namespace, valueFormat: json });
    for (let i = 0; i < 20; i++) {
      const k = CacheKey.of('cluster', String(i));
      await redis.set(k, new CacheValue(i));
      expect((await redis.get(k))?.data).toBe(i);
    }
    expect(await redis.clear()).toBe(20);
    await redis.close();
    expect(cluster.isOpen).toBe(true);
    expect(cluster.listenerCount('error')).toBe(errorListeners);
    await cluster.close();
  });
});

describe('options', () => {
  const invalid: Array<[string, RedisBackendOptions]> = [
    ['no target', {} as RedisBackendOptions],
    ['two targets', { url: REDIS_URL, cluster: { nodes: CLUSTER_NODES } } as unknown as RedisBackendOptions],
    ['empty cluster', { cluster: { nodes: [] } }],
    ['database on a cluster', { cluster: { nodes: CLUSTER_NODES }, database: 1 }],
    ['zero timeout', { url: REDIS_URL, responseTimeoutMs: 0 }],
    ['bad scheme', { url: 'http://user:hunter2@127.0.0.1:6379' }],
    ['bad database', { url: 'redis://user:hunter2@127.0.0.1:6379/x' }],
    ['bad escape', { url: 'redis://user:hunter2%zz@127.0.0.1:6379' }],
    ['unparsable', { url: 'redis://user:hunter2@[::1' }],
  ];
  for (const [name, options] of invalid) {
    it(`rejects ${name} with INVALID_OPTIONS, without echoing the URL`, () => {
      let error: unknown;
      try {
        new RedisBackend(options);
      } catch (e) {
        error = e;
      }
      expect(CacheError.is(error, 'INVALID_OPTIONS'), String(error)).toBe(true);
      expect(
        JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack }),
      ).not.toContain('hunter2');
      expect((error as Error).cause).toBeUndefined();
    });
  }

  it('defaults: label "redis", cbor, passthrough, url-encoded keys, no namespace', async () => {
    const redis = new RedisBackend({ url: REDIS_URL });
    expect(redis.label).toBe('redis');
    expect(redis.valueFormat.id).toBe('cbor');
    expect(redis.compressor.id).toBe('none');
    expect(redis.keyFormat.id).toBe('url-encoded');
    expect(redis.namespace).toBe('');
    expect(redis.capabilities.losslessKeys).toBe(false);
    await redis.close();
  });

  it('a custom label names the backend in errors and read info', async () => {
    const redis = new RedisBackend({ url: REDIS_URL, label: 'sessions', namespace });
    await redis.set(key, new CacheValue(1));
    const info: { source?: string } = {};
    await redis.get(key, info);
    expect(info.source).toBe('sessions');
    await redis.delete(key);
    await redis.close();
    await expect(redis.get(key)).rejects.toMatchObject({ backend: 'sessions', code: 'CLOSED' });
  });

  it('database from the URL or the option selects another database', async () => {
    const db3 = new RedisBackend({ url: `${REDIS_URL}/3`, namespace, valueFormat: json });
    const db0 = new RedisBackend({ url: REDIS_URL, namespace, valueFormat: json, database: 0 });
    try {
      await db3.set(key, new CacheValue('in three'));
      expect(await db0.get(key)).toBeUndefined();
      expect((await db3.get(key))?.data).toBe('in three');
    } finally {
      await db3.delete(key);
      await db3.close();
      await db0.close();
    }
  });
});
