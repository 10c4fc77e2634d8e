// Batch reads, writes and deletes on real Redis, single node and the 6-node cluster (keys over every master),
// and on servers this file controls (ports 18400-18409): one frozen (SIGSTOP) for the deadline, a fake one for
// replies of the wrong shape.
import {
  type BatchRead,
  CacheError,
  CacheKey,
  CacheValue,
  DeleteStatus,
  deleteMany,
  getMany,
  type ReadInfo,
  setMany,
} from '@cache/core';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { fakeRespServer } from './fake-resp-server.js';
import {
  clusterBackend,
  REDIS_URL,
  rawClient,
  rawCluster,
  singleBackend,
  uniqueNamespace,
} from './helpers.js';
import { TestServer } from './servers.js';

const backends: RedisBackend[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const backend of backends) {
    await backend.clear().catch(() => undefined);
    await backend.close();
  }
  for (const server of servers) await server.stop({ hard: true });
});

function open(mode: 'single' | 'cluster'): RedisBackend {
  const namespace = uniqueNamespace(`batch-${mode}`);
  const backend = mode === 'single' ? singleBackend({ namespace }) : clusterBackend({ namespace });
  backends.push(backend);
  return backend;
}

const k = (id: string | number): CacheKey => CacheKey.of('item', String(id));
const data = (results: readonly BatchRead<unknown>[]): unknown[] =>
  results.map((r) => (r === undefined ? undefined : CacheError.is(r) ? r.code : r.data));

for (const mode of ['single', 'cluster'] as const) {
  describe(`redis ${mode}: batch operations`, () => {
    it('300 keys spread over the slots: setMany, then getMany in key order with misses and duplicates', async () => {
      const redis = open(mode);
      const expire = Date.now() + 600_000;
      const keys = Array.from({ length: 300 }, (_, i) => k(i));
      const written = await redis.setMany(
        keys.map((key, i) => ({ key, value: new CacheValue({ i }, expire, expire - 1000 - i) })),
      );
      expect(written.every((outcome) => outcome === undefined)).toBe(true);
      const asked = [k(299), k('missing'), ...keys, k(0), k(0)];
      const infos: ReadInfo[] = asked.map(() => ({}));
      const results = await redis.getMany<{ i: number }>(asked, infos);
      expect(results.length).toBe(asked.length);
      expect(data(results)).toEqual([
        { i: 299 },
        undefined,
        ...keys.map((_, i) => ({ i })),
        { i: 0 },
        { i: 0 },
      ]);
      const third = results[2 + 3] as CacheValue<unknown>;
      expect(third.expire).toBe(expire);
      expect(third.stale).toBe(expire - 1000 - 3);
      expect(infos[0]?.source).toBe('redis');
      expect(infos[1]?.source).toBeUndefined();
      if (mode === 'cluster') {
        // The keys really are spread: every master holds some of them.
        const cluster = await rawCluster();
        try {
          const holders = new Set<string>();
          for (const key of keys) {
            const slot = await cluster.sendCommand(undefined, true, [
              'CLUSTER',
              'KEYSLOT',
              redis.storeKey(key),
            ]);
            holders.add(String(Math.floor(Number(slot) / 5462)));
          }
          expect(holders.size).toBe(3);
        } finally {
          await cluster.close();
        }
      }
    });

    it('binary data: every byte value round-trips through setMany/getMany, beside text', async () => {
      const redis = open(mode);
      const bytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      await redis.setMany<unknown>([
        { key: k('bin'), value: new CacheValue(bytes) },
        { key: k('txt'), value: new CacheValue('héllo \u{1F600}') },
      ]);
      const [bin, txt] = data(await redis.getMany([k('bin'), k('txt')]));
      expect(bin).toEqual(bytes);
      expect(txt).toBe('héllo \u{1F600}');
    });

    it('setMany writes the same whole entry as set (no field of an older write survives), last entry wins', async () => {
      const redis = open(mode);
      const expire = Date.now() + 600_000;
      await redis.set(k('single'), new CacheValue('x', expire, expire - 5000));
      await redis.set(k('batched'), new CacheValue('old', expire + 1000, expire - 9000));
      await redis.setMany([
        { key: k('batched'), value: new CacheValue('first', expire) },
        { key: k('batched'), value: new CacheValue('x', expire, expire - 5000) },
      ]);
      const inspector = mode === 'single' ? await rawClient() : await rawCluster();
      try {
        const hgetall = async (key: CacheKey): Promise<Record<string, string>> => {
          const redisKey = redis.storeKey(key);
          const reply = (await (mode === 'single'
            ? (inspector as Awaited<ReturnType<typeof rawClient>>).sendCommand(['HGETALL', redisKey])
            : (inspector as Awaited<ReturnType<typeof rawCluster>>).sendCommand(redisKey, true, [
                'HGETALL',
                redisKey,
              ]))) as unknown;
          const entries: [string, string][] =
            reply instanceof Map
              ? [...reply].map(([f, v]) => [String(f), Buffer.from(v as Buffer).toString('hex')])
              : [];
          return Object.fromEntries(entries);
        };
        expect(await hgetall(k('batched'))).toEqual(await hgetall(k('single')));
      } finally {
        await inspector.close();
      }
      const [hit] = await redis.getMany([k('batched')]);
      expect((hit as CacheValue<unknown>).stale).toBe(expire - 5000);
    });

    it('an already expired value in setMany deletes the entry', async () => {
      const redis = open(mode);
      await redis.set(k('gone'), new CacheValue('here'));
      const outcomes = await redis.setMany([
        { key: k('gone'), value: new CacheValue('late', Date.now() - 1) },
        { key: k('kept'), value: new CacheValue('kept') },
      ]);
      expect(outcomes).toEqual([undefined, undefined]);
      expect(data(await redis.getMany([k('gone'), k('kept')]))).toEqual([undefined, 'kept']);
    });

    it('deleteMany: one status per position, a repeated key missing the second time', async () => {
      const redis = open(mode);
      await setMany(redis, [
        { key: k('a'), value: new CacheValue(1) },
        { key: k('b'), value: new CacheValue(2) },
      ]);
      expect(await deleteMany(redis, [k('a'), k('a'), k('none'), k('b')])).toEqual([
        DeleteStatus.deleted(1),
        DeleteStatus.missing,
        DeleteStatus.missing,
        DeleteStatus.deleted(1),
      ]);
      expect(data(await getMany(redis, [k('a'), k('b')]))).toEqual([undefined, undefined]);
    });

    it('foreign data under one key is CORRUPT_ENTRY / CODEC_MISMATCH in its position only', async () => {
      const redis = open(mode);
      await redis.set(k('good'), new CacheValue('fine'));
      const inspector = mode === 'single' ? await rawClient() : await rawCluster();
      const send = (key: CacheKey, ...args: string[]) =>
        mode === 'single'
          ? (inspector as Awaited<ReturnType<typeof rawClient>>).sendCommand([
              args[0] as string,
              redis.storeKey(key),
              ...args.slice(1),
            ])
          : (inspector as Awaited<ReturnType<typeof rawCluster>>).sendCommand(redis.storeKey(key), false, [
              args[0] as string,
              redis.storeKey(key),
              ...args.slice(1),
            ]);
      try {
        await send(k('string'), 'SET', 'not a hash');
        await send(k('nodata'), 'HSET', 's', '123');
        await send(k('codec'), 'HSET', 'd', 'x', 'c', 'json/gzip');
      } finally {
        await inspector.close();
      }
      const results = await redis.getMany([k('good'), k('string'), k('nodata'), k('codec'), k('none')]);
      expect(data(results)).toEqual(['fine', 'CORRUPT_ENTRY', 'CORRUPT_ENTRY', 'CODEC_MISMATCH', undefined]);
      expect((results[1] as CacheError).key).toBe(k('string').canonical);
      expect(redis.circuit?.state).toBe('closed');
      await redis.deleteMany([k('string'), k('nodata'), k('codec')]);
    });

    it('an invalid key fails in its position; the others are read', async () => {
      const redis = open(mode);
      await redis.set(k('ok'), new CacheValue('ok'));
      const results = await redis.getMany([k('ok'), { canonical: 'bad' } as unknown as CacheKey]);
      expect(data(results)).toEqual(['ok', 'INVALID_KEY']);
    });
  });
}

describe('store failures fail every position, through one breaker call', () => {
  it('nothing listening: CONNECTION in every position; the breaker opens after failureThreshold batches', async () => {
    const redis = new RedisBackend({
      url: 'redis://127.0.0.1:18409',
      namespace: 'batch:',
      connectTimeoutMs: 500,
      responseTimeoutMs: 500,
      breaker: { failureThreshold: 2, openMs: 60_000 },
    });
    try {
      const keys = [k(1), k(2), k(3)];
      for (let i = 0; i < 2; i++) {
        const results = await getMany(redis, keys);
        expect(results.every((r) => CacheError.is(r) && r.retryable)).toBe(true);
        expect((results[2] as CacheError).key).toBe(k(3).canonical);
      }
      expect(redis.circuit?.state).toBe('open');
      expect(redis.circuit?.counters.calls).toBe(2);
      expect(data(await setMany(redis, [{ key: k(1), value: new CacheValue(1) }]))).toEqual(['CIRCUIT_OPEN']);
    } finally {
      await redis.close();
    }
  });

  it('a frozen server (SIGSTOP): TIMEOUT in every position within the deadline, answers again after SIGCONT', async () => {
    const server = new TestServer(18400);
    servers.push(server);
    await server.start();
    const redis = new RedisBackend({
      url: `redis://127.0.0.1:${server.port}`,
      namespace: 'batch:',
      responseTimeoutMs: 300,
      breaker: false,
    });
    try {
      await redis.setMany([{ key: k(1), value: new CacheValue('one') }]);
      server.signal('SIGSTOP');
      const results = await redis.getMany([k(1), k(2)]);
      expect(data(results)).toEqual(['TIMEOUT', 'TIMEOUT']);
      server.signal('SIGCONT');
      for (let i = 0; i < 50; i++) {
        const again = data(await redis.getMany([k(1), k(2)]));
        if (again[0] === 'one') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(data(await redis.getMany([k(1), k(2)]))).toEqual(['one', undefined]);
    } finally {
      await redis.close();
      await server.stop({ hard: true });
    }
  });
});

describe('replies of the wrong shape are PROTOCOL in their position', () => {
  it('HMGET answered with an integer: PROTOCOL for that key; DEL answered +OK: PROTOCOL', async () => {
    let bad = '';
    const server = await fakeRespServer((args) => {
      if (args[0] === 'HMGET') return args[1] === bad ? ':1\r\n' : '*4\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n';
      if (args[0] === 'PTTL') return ':-2\r\n';
      if (args[0] === 'DEL') return '+OK\r\n';
      return undefined;
    });
    const redis = new RedisBackend({
      url: server.url,
      namespace: 'p:',
      responseTimeoutMs: 1000,
      breaker: false,
    });
    bad = redis.storeKey(CacheKey.of('item', 'bad')).toString('latin1');
    try {
      expect(data(await redis.getMany([CacheKey.of('item', 'bad'), CacheKey.of('item', 'fine')]))).toEqual([
        'PROTOCOL',
        undefined,
      ]);
      expect(data((await redis.deleteMany([k(1)])) as never)).toEqual(['PROTOCOL']);
      // EXEC of an entry write answered with +OK for every command: that entry fails, never reported stored.
      server.setReply((args) => (args[0] === 'EXEC' ? '*3\r\n+OK\r\n+OK\r\n+OK\r\n' : undefined));
      expect(
        data(
          (await redis.setMany([{ key: k(1), value: CacheValue.fromTtl(1, { ttlMs: 60_000 }) }])) as never,
        ),
      ).toEqual(['PROTOCOL']);
    } finally {
      await redis.close();
      await server.close();
    }
  });
});

describe('one round trip per batch', () => {
  it('getMany of 100 keys reaches Redis as one burst of commands, 100 awaited gets as 100', async () => {
    // A TCP proxy on port 18430 in front of the shared server counts the chunks the client sends.
    const target = new URL(REDIS_URL);
    let chunks = 0;
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const server = connect(Number(target.port), target.hostname);
      sockets.add(client).add(server);
      client.on('data', (chunk) => {
        chunks++;
        server.write(chunk);
      });
      server.on('data', (chunk) => client.write(chunk));
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(18430, '127.0.0.1', resolve));
    const redis = new RedisBackend({
      url: 'redis://127.0.0.1:18430',
      namespace: uniqueNamespace('batch-trips'),
    });
    try {
      const keys = Array.from({ length: 100 }, (_, i) => k(i));
      await redis.setMany(keys.map((key, i) => ({ key, value: new CacheValue(i) })));
      await redis.get(k(0));
      chunks = 0;
      const results = await redis.getMany(keys);
      expect(results.every((r) => r instanceof CacheValue)).toBe(true);
      const batch = chunks;
      chunks = 0;
      for (const key of keys) await redis.get(key);
      // One write of 200 commands (TCP may cut it in a few chunks), against one write per awaited get.
      expect(batch).toBeLessThanOrEqual(3);
      expect(chunks).toBeGreaterThanOrEqual(100);
      await redis.clear();
    } finally {
      await redis.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
