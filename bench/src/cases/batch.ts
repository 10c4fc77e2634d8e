/**
 * Batch reads on Redis: `getMany` of 100 keys against node-redis pipelining the same reads by hand, against 100
 * single gets, and against the batch reads of cache-manager and keyv; and, beside them, what a single-key read
 * would gain from one command instead of two (`HMGET` + `PTTL`).
 */
import { CacheKey, CacheValue } from '@cache/core';
import { type JsonDocument, jsonDocument } from '../data/documents.js';
import type { BenchEnv, Case, Contender, Prepared, Suite } from '../harness/types.js';

const NAMESPACE = 'bench:batch:';
const TTL_MS = 3_600_000;
const STALE_MS = 3_000_000;
const BATCH = 100;
/** Keys stored: 10 batches of 100, walked in turn. */
const GROUPS = 10;
const FIELDS = ['d', 's', 'e', 'c'];
/** One read of ours, the HMGET and PTTL of a key, in one Lua call: what a one-command read could send. */
const READ_SCRIPT =
  "return { redis.call('HMGET', KEYS[1], 'd', 's', 'e', 'c'), redis.call('PTTL', KEYS[1]) }";

type Mode = 'single' | 'cluster';

interface Data {
  readonly keys: readonly CacheKey[];
  /** The Redis keys of `keys` (namespace + url-encoded). */
  readonly redisKeys: readonly string[];
  readonly docs: readonly JsonDocument[];
  readonly values: readonly CacheValue<JsonDocument>[];
  /** `keys` cut into batches of {@link BATCH}. */
  readonly groups: readonly (readonly CacheKey[])[];
  readonly redisGroups: readonly (readonly string[])[];
}

async function buildData(): Promise<Data> {
  const { urlEncodeKey } = await import('@cache/core');
  const count = BATCH * GROUPS;
  const docs = Array.from({ length: count }, (_, i) => jsonDocument(i, 1024));
  const keys = docs.map((_, i) => CacheKey.from({ doc: String(i) }, { prefix: 'batch' }));
  const redisKeys = keys.map((key) => NAMESPACE + urlEncodeKey(key));
  const now = Date.now();
  const cut = <T>(list: readonly T[]): T[][] =>
    Array.from({ length: GROUPS }, (_, g) => list.slice(g * BATCH, (g + 1) * BATCH));
  return {
    keys,
    redisKeys,
    docs,
    values: docs.map((doc) => CacheValue.fromTtl(doc, { ttlMs: STALE_MS, graceMs: TTL_MS - STALE_MS }, now)),
    groups: cut(keys),
    redisGroups: cut(redisKeys),
  };
}

async function backendFor(env: BenchEnv, mode: Mode) {
  const { RedisBackend } = await import('@cache/redis');
  return mode === 'single'
    ? new RedisBackend({ url: env.redisUrl as string, namespace: NAMESPACE })
    : new RedisBackend({ cluster: { nodes: env.clusterNodes }, namespace: NAMESPACE });
}

/** Writes every entry with @cache/redis (itself with setMany), so every read contender hits. */
async function prefill(env: BenchEnv, mode: Mode, data: Data): Promise<void> {
  const backend = await backendFor(env, mode);
  for (let g = 0; g < GROUPS; g++) {
    const outcomes = await backend.setMany(
      (data.groups[g] as CacheKey[]).map((key, j) => ({
        key,
        value: data.values[g * BATCH + j] as CacheValue<JsonDocument>,
      })),
    );
    if (outcomes.some((outcome) => outcome !== undefined)) throw new Error('prefill failed');
  }
  await backend.close();
}

/** Counts the hits of a batch, so a batch that missed fails the case instead of reporting a fast miss. */
function allHit(results: readonly unknown[]): unknown {
  for (const result of results) if (result === undefined || result instanceof Error) return undefined;
  return results;
}

function ours(env: BenchEnv, mode: Mode, data: Data): Contender {
  return {
    name: '@cache/redis getMany',
    role: 'ours',
    note:
      '`backend.getMany(100 keys)`: every key’s `HMGET d s e c` + `PTTL` sent in the same tick (one round trip per ' +
      'node), one deadline and one breaker call for the batch, each entry CBOR-decoded into a `CacheValue`.',
    async setup(): Promise<Prepared> {
      await prefill(env, mode, data);
      const backend = await backendFor(env, mode);
      await backend.getMany(data.groups[0] as CacheKey[]);
      return {
        async: true,
        op: (i) => backend.getMany(data.groups[i % GROUPS] as CacheKey[]).then(allHit),
        teardown: () => backend.close(),
      };
    },
  };
}

/** node-redis by hand: the same 200 commands of a batch, sent together, then CBOR-decoding each payload. */
function rawPipelined(env: BenchEnv, mode: Mode, data: Data): Contender {
  return {
    name: 'node-redis 6.3, pipelined by hand + CBOR',
    role: 'reference',
    note:
      'default client options; per key `sendCommand([HMGET, key, d, s, e, c])` (Buffer replies) and `[PTTL, key]`, all ' +
      '200 issued in one tick (node-redis writes them together), then `cbor.deserialize(d)` of each.',
    async setup(): Promise<Prepared> {
      const { createClient, createCluster, RESP_TYPES } = await import('@redis/client');
      const { cbor } = await import('@cache/formats');
      const base =
        mode === 'single'
          ? createClient({ url: env.redisUrl as string })
          : createCluster({ rootNodes: env.clusterNodes.map((node) => ({ url: `redis://${node}` })) });
      base.on('error', () => {});
      await base.connect();
      const bytes = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;
      // The cheapest call node-redis offers: sendCommand with the byte type mapping, as @cache/redis uses it.
      type Send = (key: string, args: string[], options?: typeof bytes) => Promise<unknown>;
      const send: Send =
        mode === 'single'
          ? (_key, args, options) =>
              (base as unknown as ReturnType<typeof createClient>).sendCommand(args, options)
          : (key, args, options) =>
              (base as unknown as ReturnType<typeof createCluster>).sendCommand(key, true, args, options);
      const read = (group: readonly string[]) =>
        Promise.all(
          group.map((key) =>
            Promise.all([send(key, ['HMGET', key, ...FIELDS], bytes), send(key, ['PTTL', key])]).then(
              ([fields, ttl]) => {
                const d = (fields as (Buffer | null)[])[0];
                return d == null ? undefined : { data: cbor.deserialize(d), ttl };
              },
            ),
          ),
        );
      return {
        async: true,
        op: (i) => read(data.redisGroups[i % GROUPS] as string[]).then(allHit),
        teardown: () => base.close(),
      };
    },
  };
}

/** 100 single `get`s of @cache/redis, either awaited one by one or all at once. */
function singles(
  env: BenchEnv,
  data: Data,
  how: 'sequential' | 'concurrent',
  role: 'reference' | 'variant',
): Contender {
  return {
    name: how === 'sequential' ? '@cache/redis, 100 gets awaited in turn' : '@cache/redis, 100 gets at once',
    role,
    note:
      how === 'sequential'
        ? '`for (const key of keys) await backend.get(key)`: what a loop over single gets costs, 100 round trips.'
        : '`Promise.all(keys.map((key) => backend.get(key)))`: auto-pipelined by node-redis, 100 deadlines and breaker calls.',
    async setup(): Promise<Prepared> {
      const backend = await backendFor(env, 'single');
      const op =
        how === 'sequential'
          ? async (i: number) => {
              const results: unknown[] = [];
              for (const key of data.groups[i % GROUPS] as CacheKey[]) results.push(await backend.get(key));
              return allHit(results);
            }
          : (i: number) =>
              Promise.all((data.groups[i % GROUPS] as CacheKey[]).map((key) => backend.get(key))).then(
                allHit,
              );
      await op(0);
      return { async: true, op, teardown: () => backend.close() };
    },
  };
}

/** cache-manager 7 `mget` over Keyv with @keyv/redis. */
function cacheManager(env: BenchEnv, data: Data): Contender {
  return {
    name: 'cache-manager 7 mget + @keyv/redis 5',
    role: 'peer',
    note: '`createCache({ stores: [createKeyv(url, { namespace })] }).mget(keys)`: JSON text values in Redis strings.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('cache-manager');
      const { createKeyv } = await import('@keyv/redis');
      const cache = createCache({
        stores: [createKeyv(env.redisUrl as string, { namespace: 'bench-batch-cm' })],
      });
      const keys = data.keys.map((key) => key.canonical);
      await cache.mset(keys.map((key, i) => ({ key, value: data.docs[i], ttl: TTL_MS })));
      const groups = Array.from({ length: GROUPS }, (_, g) => keys.slice(g * BATCH, (g + 1) * BATCH));
      return {
        async: true,
        op: (i) => cache.mget(groups[i % GROUPS] as string[]).then(allHit),
        teardown: async () => {
          await cache.disconnect();
        },
      };
    },
  };
}

/** keyv 5 `getMany` with @keyv/redis. */
function keyv(env: BenchEnv, data: Data): Contender {
  return {
    name: 'keyv 5 getMany + @keyv/redis 5',
    role: 'peer',
    note: '`new Keyv({ store: new KeyvRedis(url), namespace }).getMany(keys)`: JSON text values in Redis strings.',
    async setup(): Promise<Prepared> {
      const { default: Keyv } = await import('keyv');
      const { default: KeyvRedis } = await import('@keyv/redis');
      const store = new Keyv({ store: new KeyvRedis(env.redisUrl as string), namespace: 'bench-batch-keyv' });
      const keys = data.keys.map((key) => key.canonical);
      await store.setMany(keys.map((key, i) => ({ key, value: data.docs[i], ttl: TTL_MS })));
      const groups = Array.from({ length: GROUPS }, (_, g) => keys.slice(g * BATCH, (g + 1) * BATCH));
      return {
        async: true,
        op: (i) => store.getMany(groups[i % GROUPS] as string[]).then(allHit),
        teardown: () => store.disconnect(),
      };
    },
  };
}

/**
 * Single-key reads by hand with node-redis, to see what one command per read would gain over the two we send:
 * the current pair, `HMGET` alone (trusting the stored `e`), and a Lua script returning both replies.
 */
function singleRead(env: BenchEnv, data: Data, kind: 'pair' | 'hmget' | 'script'): Contender {
  const names = {
    pair: 'HMGET + PTTL (our read today), by hand',
    hmget: 'HMGET only (trusting `e`), by hand',
    script: 'EVALSHA of a script returning HMGET + PTTL, by hand',
  } as const;
  return {
    name: names[kind],
    role: kind === 'pair' ? 'reference' : 'variant',
    note:
      kind === 'pair'
        ? 'node-redis `sendCommand` (Buffer replies): `HMGET key d s e c` and `PTTL key` sent together, then CBOR-decode `d`.'
        : kind === 'hmget'
          ? 'one command; it cannot see a TTL hitbox changed in place (`EXPIRE` without touching `e`).'
          : `one command: \`${READ_SCRIPT}\`, loaded once; the same answer as the pair, taken atomically.`,
    async setup(): Promise<Prepared> {
      await prefill(env, 'single', data);
      const { createClient, RESP_TYPES } = await import('@redis/client');
      const { cbor } = await import('@cache/formats');
      const base = createClient({ url: env.redisUrl as string });
      base.on('error', () => {});
      await base.connect();
      const bytes = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;
      const sha = String(await base.scriptLoad(READ_SCRIPT));
      const { redisKeys } = data;
      const decode = (fields: unknown) => {
        const d = (fields as (Buffer | null)[])[0];
        return d == null ? undefined : cbor.deserialize(d);
      };
      const read =
        kind === 'pair'
          ? (key: string) =>
              Promise.all([
                base.sendCommand(['HMGET', key, ...FIELDS], bytes),
                base.sendCommand(['PTTL', key]),
              ]).then(([f]) => decode(f))
          : kind === 'hmget'
            ? (key: string) => base.sendCommand(['HMGET', key, ...FIELDS], bytes).then(decode)
            : (key: string) =>
                base
                  .sendCommand(['EVALSHA', sha, '1', key], bytes)
                  .then((reply) => decode((reply as unknown as unknown[])[0]));
      return {
        async: true,
        op: (i) => read(redisKeys[i % redisKeys.length] as string),
        teardown: () => base.close(),
      };
    },
  };
}

async function batchCases(env: BenchEnv): Promise<Case[]> {
  const data = await buildData();
  const cases: Case[] = [
    {
      name: 'getMany, 100 keys of 1 KB (one op = 100 keys)',
      timing: { kind: 'concurrent', inFlight: [1, 10] },
      expect: 'defined',
      target: {
        minRatio: 0.85,
        text: 'getMany(100) at least 0.85x node-redis pipelining the same reads by hand',
      },
      contenders: [
        ours(env, 'single', data),
        rawPipelined(env, 'single', data),
        singles(env, data, 'concurrent', 'variant'),
        cacheManager(env, data),
        keyv(env, data),
      ],
    },
    {
      name: 'getMany vs 100 single gets awaited in turn (one op = 100 keys)',
      timing: { kind: 'concurrent', inFlight: [1] },
      expect: 'defined',
      target: { minRatio: 5, text: 'getMany(100) at least 5x 100 sequential gets' },
      contenders: [ours(env, 'single', data), singles(env, data, 'sequential', 'reference')],
    },
  ];
  cases.push({
    name: 'getMany on the cluster, 100 keys of 1 KB over 3 masters (one op = 100 keys)',
    timing: { kind: 'concurrent', inFlight: [1, 10] },
    expect: 'defined',
    target: { minRatio: 0.85, text: 'getMany(100) at least 0.85x node-redis cluster pipelining by hand' },
    contenders: [ours(env, 'cluster', data), rawPipelined(env, 'cluster', data)],
    ...(env.clusterNodes.length === 0 ? { skip: 'no Redis Cluster: REDIS_CLUSTER_NODES is not set' } : {}),
  });
  cases.push({
    name: 'single-key read, 1 KB: one command instead of two?',
    timing: { kind: 'concurrent', inFlight: [1, 100] },
    expect: 'defined',
    contenders: [
      singleRead(env, data, 'pair'),
      singleRead(env, data, 'hmget'),
      singleRead(env, data, 'script'),
    ],
  });
  return cases;
}

/** getMany of @cache/redis against node-redis by hand, single gets, cache-manager and keyv; one-command reads. */
export const batchSuite: Suite = {
  id: 'batch',
  title: 'Batch reads on Redis (getMany)',
  description: [
    'A standalone Redis on loopback (and the cluster when REDIS_CLUSTER_NODES is set). 1,000 entries of ~1 KB JSON',
    'documents in our layout, read as 10 batches of 100 keys walked in turn; one op is a whole batch of 100 keys.',
    'The reference sends the same 200 commands per batch through node-redis by hand; the second row compares',
    'getMany with a loop of 100 awaited gets. cache-manager and keyv store their own copies (JSON strings).',
    'The last rows measure single-key reads by hand: the HMGET + PTTL pair we send today against one command',
    '(HMGET alone, or a Lua script returning both), to decide whether a one-command read is worth adopting',
    '(it is only if it reaches 1.2x at 100 in flight; the `variant` ratios answer that).',
  ].join(' '),
  requires: ['redis'],
  cases: batchCases,
};
