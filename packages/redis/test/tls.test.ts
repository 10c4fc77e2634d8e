// TLS: a server with a self-signed certificate made here with openssl, reached through rediss://.
// Runs its own server: TLS on 18030 (plain 18031 only for the readiness probe).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { TEST_DIR, TestServer } from './servers.js';

const TLS_PORT = 18030;
const certDir = join(TEST_DIR, 'tls-cert');
const cert = join(certDir, 'cert.pem');
const keyFile = join(certDir, 'key.pem');
const server = new TestServer(18031, [
  '--tls-port',
  String(TLS_PORT),
  '--tls-cert-file',
  cert,
  '--tls-key-file',
  keyFile,
  '--tls-ca-cert-file',
  cert,
  '--tls-auth-clients',
  'no',
]);
const backends: RedisBackend[] = [];
let ca: Buffer;

beforeAll(async () => {
  mkdirSync(certDir, { recursive: true });
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  ca = readFileSync(cert);
  await server.start();
});

afterAll(async () => {
  for (const backend of backends) await backend.close();
  await server.stop({ hard: true });
});

function backend(options: ConstructorParameters<typeof RedisBackend>[0]): RedisBackend {
  const redis = new RedisBackend(options);
  backends.push(redis);
  return redis;
}

describe('TLS', () => {
  it('rediss:// with the CA of a self-signed certificate: entries round-trip', async () => {
    const redis = backend({ url: `rediss://127.0.0.1:${TLS_PORT}`, tls: { ca }, namespace: 'tls:' });
    const key = CacheKey.of('secure', '1');
    await redis.set(key, CacheValue.fromTtl({ over: 'tls' }, { ttlMs: 60_000 }));
    expect((await redis.get(key))?.data).toEqual({ over: 'tls' });
    expect(await redis.clear()).toBe(1);
  });

  it('tls options turn TLS on for a redis:// URL too', async () => {
    const redis = backend({ url: `redis://127.0.0.1:${TLS_PORT}`, tls: { ca } });
    expect(await redis.get(CacheKey.of('secure', 'none', { prefix: 'tls-test' }))).toBeUndefined();
  });

  it('a certificate nobody vouched for is refused: CONNECTION', async () => {
    const redis = backend({ url: `rediss://127.0.0.1:${TLS_PORT}`, responseTimeoutMs: 1000 });
    const error = await redis.get(CacheKey.of('x')).catch((e: unknown) => e);
    expect(CacheError.is(error, 'CONNECTION'), String(error)).toBe(true);
    expect(String(error)).toMatch(/certificate/i);
  });
});
