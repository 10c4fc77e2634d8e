// A batch on a cluster whose slot moved after the backend learned the topology: every key's commands follow the
// MOVED reply to the new master, so getMany and setMany answer right, one position per key. Runs its own 6-node
// cluster on ports 18420-18425 (the slot migration would disturb the shared one).
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { rawCommand, TestCluster } from './servers.js';

const PORTS = [18420, 18421, 18422, 18423, 18424, 18425];
const cluster = new TestCluster(PORTS);

beforeAll(async () => {
  await cluster.start();
}, 120_000);
afterAll(async () => {
  await cluster.stop();
});

const k = (i: number): CacheKey => CacheKey.of('moved', String(i));

async function admin(port: number) {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Moves `slot` and its keys from its master to another master, as `redis-cli --cluster reshard` does. */
async function moveSlot(slot: number): Promise<number> {
  const source = await cluster.masterOf(slot, PORTS[0] as number);
  let targetPort: number | undefined;
  for (const port of PORTS) {
    if (port === source.port) continue;
    if ((await rawCommand(port, 'INFO', 'replication')).includes('role:master')) {
      targetPort = port;
      break;
    }
  }
  if (targetPort === undefined) throw new Error('no other master');
  const sourceId = await rawCommand(source.port, 'CLUSTER', 'MYID');
  const targetId = await rawCommand(targetPort, 'CLUSTER', 'MYID');
  await rawCommand(targetPort, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId);
  await rawCommand(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId);
  const client = await admin(source.port);
  try {
    const keys = (await client.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[];
    if (keys.length > 0) {
      await client.sendCommand([
        'MIGRATE',
        '127.0.0.1',
        String(targetPort),
        '',
        '0',
        '5000',
        'KEYS',
        ...keys,
      ]);
    }
  } finally {
    await client.close();
  }
  for (const port of PORTS) {
    const info = await rawCommand(port, 'INFO', 'replication');
    if (info.includes('role:master'))
      await rawCommand(port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
  }
  await cluster.waitHealthy(PORTS);
  return targetPort;
}

describe('cluster batch after a slot moved', () => {
  it('getMany and setMany follow MOVED to the new master; every position answered', async () => {
    const redis = new RedisBackend({
      cluster: { nodes: PORTS.map((port) => `127.0.0.1:${port}`) },
      namespace: 'moved:',
      responseTimeoutMs: 5000,
    });
    try {
      const keys = Array.from({ length: 60 }, (_, i) => k(i));
      expect(await redis.setMany(keys.map((key, i) => ({ key, value: new CacheValue(`v${i}`) })))).toEqual(
        keys.map(() => undefined),
      );
      // The backend knows the topology now; then the slot of key 0 moves under it.
      expect((await redis.getMany(keys)).every((r) => r instanceof CacheValue)).toBe(true);
      const slot = Number(
        await rawCommand(PORTS[0] as number, 'CLUSTER', 'KEYSLOT', redis.storeKey(k(0)).toString()),
      );
      const target = await moveSlot(slot);
      expect((await cluster.masterOf(slot, PORTS[0] as number)).port).toBe(target);

      const results = await redis.getMany<string>(keys);
      expect(results.map((r) => (CacheError.is(r) ? r.code : r?.data))).toEqual(keys.map((_, i) => `v${i}`));
      const written = await redis.setMany([{ key: k(0), value: new CacheValue('after the move') }]);
      expect(written).toEqual([undefined]);
      expect((await redis.getMany<string>([k(0)]))[0]).toMatchObject({ data: 'after the move' });
      // The entry lives on the new master.
      expect(await rawCommand(target, 'EXISTS', redis.storeKey(k(0)).toString())).toBe('1');
    } finally {
      await redis.close();
    }
  }, 120_000);
});
