// A cluster master dies: operations on its slots fail with a typed error within the deadline, and once a replica
// has taken over the same backend serves them again. Runs its own 6-node cluster on 18010-18015, so the shared
// cluster of the test command is never touched.
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { json } from '@cache/formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { eventually, timed } from './helpers.js';
import { TestCluster } from './servers.js';

const PORTS = [18010, 18011, 18012, 18013, 18014, 18015];
const DEADLINE_MS = 500;
const SLACK_MS = 1500;

/** CRC16/XMODEM, the hash of Redis Cluster key slots. */
function slotOf(key: Buffer): number {
  let crc = 0;
  for (const byte of key) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

const cluster = new TestCluster(PORTS);
let redis: RedisBackend;

beforeAll(async () => {
  await cluster.start();
  redis = new RedisBackend({
    cluster: { nodes: PORTS.slice(0, 3).map((port) => `127.0.0.1:${port}`) },
    namespace: 'failover:',
    valueFormat: json,
    responseTimeoutMs: DEADLINE_MS,
    connectTimeoutMs: 500,
    reconnect: { delayMs: 50, maxDelayMs: 500 },
  });
});

afterAll(async () => {
  await redis?.close();
  await cluster.stop();
});

describe('cluster failover', () => {
  it('after a master is killed and its replica promoted, the backend serves its slots again', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => CacheKey.of('k', String(i)));
    for (const key of keys) await redis.set(key, new CacheValue({ i: key.canonical }));

    const victimKey = keys[0] as CacheKey;
    const slot = slotOf(redis.storeKey(victimKey));
    const master = await cluster.masterOf(slot, PORTS[0] as number);
    await master.stop({ hard: true });

    // While the cluster notices and fails over: typed errors within the deadline, never a hang.
    const failures: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { ms, error } = await timed(() => redis.set(victimKey, new CacheValue('during')));
      if (error !== undefined) {
        expect(CacheError.is(error), String(error)).toBe(true);
        failures.push((error as CacheError).code);
      }
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((code) => code === 'CONNECTION' || code === 'TIMEOUT')).toBe(true);

    // A replica takes over (node timeout 2 s); the same backend finds the new master by itself.
    await eventually(() => redis.set(victimKey, new CacheValue('after')), 30_000, 200);
    expect((await redis.get(victimKey))?.data).toBe('after');
    // Every other key still reads (without error) and writes.
    for (const key of keys.slice(1)) {
      await redis.get(key);
      await redis.set(key, new CacheValue('rewritten'));
      expect((await redis.get(key))?.data).toBe('rewritten');
    }
  });
});
