import { randomBytes } from 'node:crypto';
import { createClient, createCluster, RESP_TYPES } from '@redis/client';
import { RedisBackend, type RedisBackendOptions, type RedisBackendSettings } from '../src/index.js';

/** The shared servers the test command starts (scripts/redis-servers.mjs); the same defaults for local runs. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
export const CLUSTER_NODES = (
  process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17000,127.0.0.1:17001,127.0.0.1:17002'
).split(',');

/** A namespace no other test file or run uses. */
export function uniqueNamespace(file: string): string {
  return `t:redis:${file}:${randomBytes(4).toString('hex')}:`;
}

export function singleBackend(settings: RedisBackendSettings = {}): RedisBackend {
  return new RedisBackend({ url: REDIS_URL, ...settings } as RedisBackendOptions);
}

export function clusterBackend(settings: RedisBackendSettings = {}): RedisBackend {
  return new RedisBackend({ cluster: { nodes: CLUSTER_NODES }, ...settings } as RedisBackendOptions);
}

const BYTES = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** A plain node-redis client for looking underneath the backend, with replies as Buffers. */
export async function rawClient(url = REDIS_URL) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return client.withTypeMapping(BYTES);
}

/** A plain node-redis cluster client, replies as Buffers. */
export async function rawCluster() {
  const cluster = createCluster({ rootNodes: CLUSTER_NODES.map((node) => ({ url: `redis://${node}` })) });
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster.withTypeMapping(BYTES);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` and returns how long it took to settle, with its error (or undefined when it resolved). */
export async function timed(fn: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await fn();
    return { ms: performance.now() - start, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

/** Repeats `fn` until it resolves or `timeoutMs` passes; returns the result or throws the last error. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs: number, pauseMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(pauseMs);
    }
  }
}
