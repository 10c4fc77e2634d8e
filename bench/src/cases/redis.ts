import { CacheKey, CacheValue, type Compressor, type Format, passthrough } from '@cache/core';
import { type JsonDocument, jsonDocument } from '../data/documents.js';
import type { BenchEnv, Case, Contender, Prepared, Suite, Target } from '../harness/types.js';

const TTL_MS = 3_600_000;
const STALE_MS = 3_000_000;
const NAMESPACE = 'bench:redis:';
const TARGET: Target = { minRatio: 0.85, text: 'at least 0.85x raw node-redis issuing the same commands' };
const IN_FLIGHT = [1, 100] as const;

/** 1 KB and 100 KB documents; fewer keys for the big ones so a run stays within a few tens of MB. */
const SIZES = [
  { label: '1 KB', bytes: 1024, keys: 4096 },
  { label: '100 KB', bytes: 100 * 1024, keys: 128 },
] as const;

type Size = (typeof SIZES)[number];
type Op = 'get' | 'set';
type Mode = 'single' | 'cluster';

interface SizeData {
  readonly size: Size;
  readonly docs: readonly JsonDocument[];
  readonly keys: readonly CacheKey[];
  /** The Redis keys of `keys` (namespace + url-encoded), for the contenders that do not encode keys. */
  readonly redisKeys: readonly string[];
  readonly values: readonly CacheValue<JsonDocument>[];
}

async function buildData(size: Size): Promise<SizeData> {
  const { urlEncodeKey } = await import('@cache/core');
  const docs = Array.from({ length: size.keys }, (_, i) => jsonDocument(i, size.bytes));
  const keys = docs.map((_, i) =>
    CacheKey.from({ doc: String(i), size: String(size.bytes) }, { prefix: 'bench' }),
  );
  const now = Date.now();
  return {
    size,
    docs,
    keys,
    redisKeys: keys.map((key) => NAMESPACE + urlEncodeKey(key)),
    values: docs.map((doc) => CacheValue.fromTtl(doc, { ttlMs: STALE_MS, graceMs: TTL_MS - STALE_MS }, now)),
  };
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function backendFor(env: BenchEnv, mode: Mode) {
  const { RedisBackend } = await import('@cache/redis');
  return mode === 'single'
    ? new RedisBackend({ url: env.redisUrl as string, namespace: NAMESPACE })
    : new RedisBackend({ cluster: { nodes: env.clusterNodes }, namespace: NAMESPACE });
}

/** Writes every entry with @cache/redis, so the get contenders (all reading the same layout) hit. */
async function prefill(env: BenchEnv, mode: Mode, data: SizeData): Promise<void> {
  const backend = await backendFor(env, mode);
  for (let i = 0; i < data.keys.length; i += 64) {
    await Promise.all(
      data.keys
        .slice(i, i + 64)
        .map((key, j) => backend.set(key, data.values[i + j] as CacheValue<JsonDocument>)),
    );
  }
  await backend.close();
}

function ours(env: BenchEnv, mode: Mode, data: SizeData, op: Op): Contender {
  return {
    name: '@cache/redis',
    role: 'ours',
    note:
      'defaults (CBOR, no compression, url-encoded keys) and a namespace; `get` decodes and returns a `CacheValue`, ' +
      '`set` encodes and writes the whole entry (`MULTI DEL HSET PEXPIREAT EXEC`), each under its 2 s deadline.',
    async setup(): Promise<Prepared> {
      if (op === 'get') await prefill(env, mode, data);
      const backend = await backendFor(env, mode);
      const { keys, values } = data;
      const mask = keys.length - 1;
      await backend.get(keys[0] as CacheKey);
      return {
        async: true,
        op:
          op === 'get'
            ? (i) => backend.get(keys[i & mask] as CacheKey)
            : (i) => backend.set(keys[i & mask] as CacheKey, values[i & mask] as CacheValue<JsonDocument>),
        teardown: () => backend.close(),
      };
    },
  };
}

/**
 * node-redis used by hand for the same layout: the same commands on the same keys, the payload (de)serialized
 * with the same CBOR format, or not at all (`codec: false`, a variant showing what (de)serializing costs).
 */
function raw(env: BenchEnv, mode: Mode, data: SizeData, op: Op, codec: boolean): Contender {
  return {
    name: codec ? 'node-redis 6.3 + CBOR, by hand' : 'node-redis 6.3, commands only',
    role: codec ? 'reference' : 'variant',
    note: codec
      ? `default client options; get: \`HMGET key d s e c\` + \`PTTL key\` sent together (Buffer replies), then CBOR-decode \`d\`; set: CBOR-encode, then \`multi().del().hSet(d, c, s, e).pExpireAt().exec()\`.`
      : 'the same commands without CBOR: the get returns the raw reply, the set writes pre-encoded bytes.',
    async setup(): Promise<Prepared> {
      if (op === 'get') await prefill(env, mode, data);
      const { createClient, createCluster, RESP_TYPES } = await import('@redis/client');
      const { cbor } = await import('@cache/formats');
      const bytes = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;
      const base =
        mode === 'single'
          ? createClient({ url: env.redisUrl as string })
          : createCluster({ rootNodes: env.clusterNodes.map((node) => ({ url: `redis://${node}` })) });
      base.on('error', () => {});
      await base.connect();
      const client = base.withTypeMapping(bytes);
      const { redisKeys, values } = data;
      const mask = redisKeys.length - 1;
      const encoded = values.map((v) => toBuffer(cbor.serialize(v.data)));
      const fields = ['d', 's', 'e', 'c'];
      const read = (key: string) => Promise.all([client.hmGet(key, fields), client.pTTL(key)]);
      const get = codec
        ? (i: number) =>
            read(redisKeys[i & mask] as string).then(([f, ttl]) => {
              const d = f[0];
              return d == null ? undefined : { data: cbor.deserialize(d), ttl };
            })
        : (i: number) => read(redisKeys[i & mask] as string);
      const set = (i: number) => {
        const key = redisKeys[i & mask] as string;
        const value = values[i & mask] as CacheValue<JsonDocument>;
        const d = codec ? toBuffer(cbor.serialize(value.data)) : (encoded[i & mask] as Buffer);
        return client
          .multi()
          .del(key)
          .hSet(key, { d, c: 'cbor/none', s: String(value.stale), e: String(value.expire) })
          .pExpireAt(key, value.expire as number)
          .exec();
      };
      return { async: true, op: op === 'get' ? get : set, teardown: () => base.close() };
    },
  };
}

/** BentoCache 1.6 with only its Redis driver (L2), on ioredis. */
function bento(env: BenchEnv, data: SizeData, op: Op): Contender {
  return {
    name: 'BentoCache 1.6 (Redis only)',
    role: 'peer',
    note: '`bentostore().useL2Layer(redisDriver({ connection: { host, port } }))`: one ioredis connection, JSON text values.',
    async setup(): Promise<Prepared> {
      const { BentoCache, bentostore } = await import('bentocache');
      const { redisDriver } = await import('bentocache/drivers/redis');
      const url = new URL(env.redisUrl as string);
      const cache = new BentoCache({
        default: 'redis',
        prefix: 'bench:bento',
        stores: {
          redis: bentostore().useL2Layer(
            redisDriver({ connection: { host: url.hostname, port: Number(url.port || 6379) } }),
          ),
        },
      });
      const keys = data.keys.map((key) => key.canonical);
      const mask = keys.length - 1;
      for (let i = 0; i < keys.length; i++)
        await cache.set({ key: keys[i] as string, value: data.docs[i], ttl: TTL_MS });
      return {
        async: true,
        op:
          op === 'get'
            ? (i) => cache.get({ key: keys[i & mask] as string })
            : (i) => cache.set({ key: keys[i & mask] as string, value: data.docs[i & mask], ttl: TTL_MS }),
        teardown: () => cache.disconnectAll(),
      };
    },
  };
}

/** cache-manager 7 over Keyv with @keyv/redis (node-redis). */
function cacheManager(env: BenchEnv, data: SizeData, op: Op): Contender {
  return {
    name: 'cache-manager 7 + @keyv/redis 5',
    role: 'peer',
    note: '`createCache({ stores: [createKeyv(url, { namespace })] })`: JSON text values in Redis strings.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('cache-manager');
      const { createKeyv } = await import('@keyv/redis');
      const cache = createCache({ stores: [createKeyv(env.redisUrl as string, { namespace: 'bench-cm' })] });
      const keys = data.keys.map((key) => key.canonical);
      const mask = keys.length - 1;
      for (let i = 0; i < keys.length; i++) await cache.set(keys[i] as string, data.docs[i], TTL_MS);
      return {
        async: true,
        op:
          op === 'get'
            ? (i) => cache.get(keys[i & mask] as string)
            : (i) => cache.set(keys[i & mask] as string, data.docs[i & mask], TTL_MS),
        teardown: async () => {
          await cache.disconnect();
        },
      };
    },
  };
}

async function redisCases(env: BenchEnv, mode: Mode): Promise<Case[]> {
  const cases: Case[] = [];
  for (const size of SIZES) {
    const data = await buildData(size);
    for (const op of ['get', 'set'] as const) {
      const contenders = [
        ours(env, mode, data, op),
        raw(env, mode, data, op, true),
        raw(env, mode, data, op, false),
      ];
      if (mode === 'single') contenders.push(bento(env, data, op), cacheManager(env, data, op));
      cases.push({
        name: `${op === 'get' ? 'get hit' : 'set'}, ${size.label}`,
        timing: { kind: 'concurrent', inFlight: IN_FLIGHT },
        ...(op === 'get' ? { expect: 'defined' as const } : {}),
        target: TARGET,
        contenders,
      });
    }
  }
  return cases;
}

/** Bytes Redis reports (`MEMORY USAGE`) for one 10 KB JSON document per format and compressor. */
async function entrySizes(env: BenchEnv): Promise<string> {
  const { RedisBackend } = await import('@cache/redis');
  const { cbor, json } = await import('@cache/formats');
  const { gzip, zstd } = await import('@cache/compress');
  const { createClient } = await import('@redis/client');
  const client = createClient({ url: env.redisUrl as string });
  client.on('error', () => {});
  await client.connect();
  const doc = jsonDocument(7, 10 * 1024);
  const key = CacheKey.of('size', 'doc');
  const formats: Format[] = [json, cbor];
  const compressors: Compressor[] = [passthrough, gzip(), await zstd()];
  const rows = [
    '| format | compressor | payload `d` | MEMORY USAGE | same payload, hitbox fields only (`d`, `s`) |',
    '|---|---|--:|--:|--:|',
  ];
  try {
    for (const valueFormat of formats) {
      for (const compressor of compressors) {
        const backend = new RedisBackend({
          url: env.redisUrl as string,
          namespace: `${NAMESPACE}size:`,
          valueFormat,
          compressor,
        });
        await backend.set(key, CacheValue.fromTtl(doc, { ttlMs: STALE_MS, graceMs: TTL_MS - STALE_MS }));
        const redisKey = backend.storeKey(key);
        const ours = await client.memoryUsage(redisKey, { SAMPLES: 0 });
        const payload = Number(await client.hStrLen(redisKey, 'd'));
        const minimal = `${redisKey.toString()}:minimal`;
        const d = await client.withTypeMapping({ 36: Buffer }).hGet(redisKey, 'd');
        await client.del(minimal);
        await client.hSet(minimal, { d: d as Buffer, s: String(Date.now() + STALE_MS) });
        await client.pExpire(minimal, TTL_MS);
        const hitbox = await client.memoryUsage(minimal, { SAMPLES: 0 });
        await client.del([redisKey, minimal]);
        await backend.close();
        rows.push(`| ${valueFormat.id} | ${compressor.id} | ${payload} B | ${ours} B | ${hitbox} B |`);
      }
    }
  } finally {
    await client.close();
  }
  return [
    `Bytes per entry for one ~10 KB JSON document (\`JSON.stringify\` length ${JSON.stringify(doc).length} B), stored`,
    'with a 1 h TTL and a stale instant; `MEMORY USAGE key SAMPLES 0` counts the key, the hash and its fields.',
    "The last column is the same payload in a hash with only hitbox's fields, to show what our `e` and `c` cost.",
    '',
    ...rows,
  ].join('\n');
}

function suite(mode: Mode): Suite {
  let sizes = '';
  const base = [
    mode === 'single'
      ? 'A standalone Redis on loopback.'
      : `A Redis Cluster (3 masters, 3 replicas) on loopback, reached through one seed node list.`,
    'get hit and set of ~1 KB and ~100 KB JSON documents (4,096 and 128 keys, walked in order), with 1 and 100',
    'operations in flight. Every get contender reads the same entries, written beforehand in our layout, so the',
    'reference does exactly the Redis work ours does; the target compares our ops/s with it.',
  ].join(' ');
  return {
    id: mode === 'single' ? 'redis' : 'redis-cluster',
    title: mode === 'single' ? 'Redis get and set (single node)' : 'Redis get and set (cluster)',
    get description() {
      return sizes === '' ? base : `${base}\n\n${sizes}`;
    },
    requires: mode === 'single' ? ['redis'] : ['redis-cluster'],
    async cases(env: BenchEnv) {
      if (mode === 'single') sizes = await entrySizes(env);
      return redisCases(env, mode);
    },
  };
}

/** @cache/redis on a single node, against node-redis by hand, BentoCache and cache-manager. */
export const redisSuite: Suite = suite('single');
/** @cache/redis on a cluster, against node-redis' cluster client by hand. */
export const redisClusterSuite: Suite = suite('cluster');
