// Redis 6 ACLs: a user limited to `~myapp:*` works through the namespace `myapp:`, and refusals are `AUTH` errors
// that never carry the password. Runs its own server on 18020 (users are server-wide state).
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { timed } from './helpers.js';
import { TestServer } from './servers.js';

const PORT = 18020;
const PASSWORD = 'correct-horse-battery-staple-7f3a';
const WRONG = 'hunter2-wrong-password-91c4';
const ADMIN = 'admin-secret-5d2e';
const server = new TestServer(PORT, ['--requirepass', ADMIN]);
const backends: RedisBackend[] = [];

beforeAll(async () => {
  await server.start();
  // What a cache needs: hashes, key expiry/deletion/SCAN, transactions, the handshake. Only under myapp:.
  const admin = createClient({ url: `redis://127.0.0.1:${PORT}`, password: ADMIN });
  await admin.connect();
  await admin.sendCommand([
    'ACL',
    'SETUSER',
    'myapp',
    'on',
    `>${PASSWORD}`,
    'resetkeys',
    '~myapp:*',
    '-@all',
    '+@hash',
    '+@keyspace',
    '+@transaction',
    '+@connection',
  ]);
  await admin.close();
});

afterAll(async () => {
  for (const backend of backends) await backend.close();
  await server.stop({ hard: true });
});

function backend(options: { password: string; namespace: string; inUrl?: boolean }): RedisBackend {
  const redis = options.inUrl
    ? new RedisBackend({
        url: `redis://myapp:${options.password}@127.0.0.1:${PORT}`,
        namespace: options.namespace,
      })
    : new RedisBackend({
        url: `redis://127.0.0.1:${PORT}`,
        username: 'myapp',
        password: options.password,
        namespace: options.namespace,
      });
  backends.push(redis);
  return redis;
}

function expectNoSecret(error: unknown): void {
  const seen = new Set<unknown>();
  const dump = (e: unknown): string => {
    if (!(e instanceof Error) || seen.has(e)) return '';
    seen.add(e);
    return `${e.message}\n${e.stack}\n${JSON.stringify(e, Object.getOwnPropertyNames(e))}\n${dump(e.cause)}`;
  };
  const text = dump(error);
  for (const secret of [PASSWORD, WRONG, ADMIN]) expect(text).not.toContain(secret);
}

describe('ACL', () => {
  it('a user allowed only ~myapp:* works with namespace "myapp:"', async () => {
    for (const inUrl of [false, true]) {
      const redis = backend({ password: PASSWORD, namespace: 'myapp:', inUrl });
      const key = CacheKey.of('user', String(inUrl));
      await redis.set(key, CacheValue.fromTtl({ ok: true }, { ttlMs: 1_000, graceMs: 59_000 }));
      expect((await redis.get(key))?.data).toEqual({ ok: true });
      expect(await redis.delete(key)).toEqual({ kind: 'deleted', count: 1 });
      await redis.set(key, new CacheValue(1));
      expect(await redis.clear()).toBe(1);
    }
  });

  it('outside its key pattern the same user gets AUTH (NOPERM), without the password', async () => {
    const redis = backend({ password: PASSWORD, namespace: 'other:' });
    const error = await redis.set(CacheKey.of('x'), new CacheValue(1)).catch((e: unknown) => e);
    expect(CacheError.is(error, 'AUTH'), String(error)).toBe(true);
    expectNoSecret(error);
  });

  it('a wrong password gives a clear AUTH error, fast, that contains no password', async () => {
    for (const inUrl of [false, true]) {
      const redis = backend({ password: WRONG, namespace: 'myapp:', inUrl });
      const { ms, error } = await timed(() => redis.get(CacheKey.of('x')));
      expect(CacheError.is(error, 'AUTH'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/WRONGPASS|credentials/);
      expect(ms).toBeLessThan(1500);
      expectNoSecret(error);
      expect(redis.label).toBe('redis');
      // Still refused on the next call (a fresh attempt, no reconnect storm in between).
      const again = await redis.get(CacheKey.of('x')).catch((e: unknown) => e);
      expect(CacheError.is(again, 'AUTH'), String(again)).toBe(true);
    }
  });
});
