import { type CacheBackend, CacheKey, CacheValue, isPromiseLike } from '@cache/core';
import { type JsonDocument, jsonDocument } from '../data/documents.js';
import type { BenchEnv, Case, Contender, Prepared, Suite, Target } from '../harness/types.js';

/** Keys walked in order by every case: a power of two, so ops pick their key with a mask. */
const KEY_COUNT = 4096;
const MASK = KEY_COUNT - 1;
/** L1 capacity in the refill case: a quarter of the keys, so an in-order walk always misses L1 and hits L2. */
const SMALL_L1 = 1024;
const TTL_MS = 3_600_000;
const STALE_MS = 3_000_000;
const IN_FLIGHT = [1, 100] as const;

const L1_TARGET: Target = {
  minRatio: 0.8,
  text: "an L1 hit costs at most 1.25x our memory backend's get alone",
};
const BENTO_TARGET: Target = { minRatio: 2, text: "an L1 hit runs at least 2x BentoCache's tiered get" };

interface TieredData {
  readonly docs: readonly JsonDocument[];
  readonly keys: readonly CacheKey[];
  /** `keys[i].canonical`, for the peers keyed by strings. */
  readonly strings: readonly string[];
  readonly values: readonly CacheValue<JsonDocument>[];
}

function buildData(): TieredData {
  const docs = Array.from({ length: KEY_COUNT }, (_, i) => jsonDocument(i, 1024));
  const keys = docs.map((_, i) => CacheKey.from({ user: String(i), view: 'tiered' }, { prefix: 'bench' }));
  const now = Date.now();
  return {
    docs,
    keys,
    strings: keys.map((key) => key.canonical),
    values: docs.map((doc) => CacheValue.fromTtl(doc, { ttlMs: STALE_MS, graceMs: TTL_MS - STALE_MS }, now)),
  };
}

type Op = 'l1 hit' | 'l2 hit' | 'set';
type Kind = 'compose' | 'coherent';

/** Runs `op` for every key, 64 at a time. */
async function forAllKeys(op: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < KEY_COUNT; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, KEY_COUNT - i) }, (_, j) => op(i + j)));
  }
}

/**
 * The op a contender times. Each contender gets closures written out for it: closures made by one shared helper
 * would share V8's type feedback, and a call site that has seen several classes is slower for all of them.
 */
type OpFactory = (data: TieredData) => (i: number) => unknown;

/** Ours: `compose(memory, redis)`, or `coherentTiers` (the same, plus pub/sub invalidation and the heartbeat). */
function ours(env: BenchEnv, data: TieredData, op: Op, kind: Kind): Contender {
  const l1Max = op === 'l2 hit' ? SMALL_L1 : KEY_COUNT;
  return {
    name: kind === 'compose' ? '@cache compose(memory, redis)' : '@cache/redis coherentTiers',
    role: 'ours',
    note:
      kind === 'compose'
        ? `\`compose(memoryBackend({ maxEntries: ${l1Max} }), new RedisBackend({ url, namespace }))\`, defaults: ` +
          'sequential reads with refill, parallel writes; L2 stores CBOR.'
        : '`coherentTiers({ l1, l2, redis: { url } })` over the same two layers: reads check a trust flag first, ' +
          'and `set` writes strictly (L1, then L2: its default) and then publishes one invalidation (a second round trip).',
    async setup(): Promise<Prepared> {
      const { memoryBackend } = await import('@cache/memory');
      const { coherentTiers, RedisBackend } = await import('@cache/redis');
      const { compose } = await import('@cache/core');
      const url = env.redisUrl as string;
      const namespace = `bench:tiered:${kind}:`;
      const l1 = memoryBackend({ maxEntries: l1Max });
      const l2 = new RedisBackend({ url, namespace });
      const { keys, values } = data;
      const fill = (cache: CacheBackend) =>
        forAllKeys((i) => cache.set(keys[i] as CacheKey, values[i] as CacheValue<unknown>));
      if (kind === 'compose') {
        const cache = compose(l1, l2);
        await fill(cache);
        const ops: Record<Op, ReturnType<OpFactory>> = {
          'l1 hit': (i) => cache.get(keys[i & MASK] as CacheKey),
          'l2 hit': (i) => cache.get(keys[i & MASK] as CacheKey),
          set: (i) => cache.set(keys[i & MASK] as CacheKey, values[i & MASK] as CacheValue<unknown>),
        };
        return checked(cache, data, op, ops[op], () => cache.close());
      }
      const tiers = coherentTiers({ l1, l2, redis: { url } });
      await tiers.whenTrusted(10_000);
      await fill(tiers);
      const ops: Record<Op, ReturnType<OpFactory>> = {
        'l1 hit': (i) => tiers.get(keys[i & MASK] as CacheKey),
        'l2 hit': (i) => tiers.get(keys[i & MASK] as CacheKey),
        set: (i) => tiers.set(keys[i & MASK] as CacheKey, values[i & MASK] as CacheValue<unknown>),
      };
      return checked(tiers, data, op, ops[op], () => tiers.close());
    },
  };
}

/** The prepared op, after checking that an L1 hit really answers synchronously. */
function checked(
  cache: CacheBackend,
  data: TieredData,
  op: Op,
  run: (i: number) => unknown,
  teardown: () => Promise<void>,
): Prepared {
  if (op === 'l1 hit' && isPromiseLike(cache.get(data.keys[0] as CacheKey))) {
    throw new Error('an L1 hit is expected to be synchronous');
  }
  return { async: op !== 'l1 hit', op: run, teardown };
}

/** The reference of the L1 case: our memory backend alone, holding the same values. */
function memoryAlone(data: TieredData): Contender {
  return {
    name: '@cache/memory get alone',
    role: 'reference',
    note: `\`memoryBackend({ maxEntries: ${KEY_COUNT} })\` holding the same values: what an L1 hit cannot avoid.`,
    async setup(): Promise<Prepared> {
      const { memoryBackend } = await import('@cache/memory');
      const memory = memoryBackend({ maxEntries: KEY_COUNT });
      for (let i = 0; i < KEY_COUNT; i++)
        memory.set(data.keys[i] as CacheKey, data.values[i] as CacheValue<unknown>);
      const { keys } = data;
      return { async: false, op: (i) => memory.get(keys[i & MASK] as CacheKey) };
    },
  };
}

/** The reference of the L2 and set cases: our Redis backend alone, the far tier's own cost. */
function redisAlone(env: BenchEnv, data: TieredData, op: Op): Contender {
  return {
    name: '@cache/redis alone',
    role: 'reference',
    note: 'the L2 of our tiers used directly (`RedisBackend` defaults, CBOR): what the far tier costs by itself.',
    async setup(): Promise<Prepared> {
      const { RedisBackend } = await import('@cache/redis');
      const redis = new RedisBackend({ url: env.redisUrl as string, namespace: 'bench:tiered:redis:' });
      const { keys, values } = data;
      await forAllKeys((i) => redis.set(keys[i] as CacheKey, values[i] as CacheValue<unknown>));
      return {
        async: true,
        op:
          op === 'set'
            ? (i) => redis.set(keys[i & MASK] as CacheKey, values[i & MASK] as CacheValue<unknown>)
            : (i) => redis.get(keys[i & MASK] as CacheKey),
        teardown: () => redis.close(),
      };
    },
  };
}

/** BentoCache 1.6 tiered: memory L1 + Redis L2 (ioredis), optionally with its Redis bus. */
function bento(
  env: BenchEnv,
  data: TieredData,
  op: Op,
  bus: boolean,
  role: 'peer' | 'reference' = 'peer',
): Contender {
  const l1Max = op === 'l2 hit' ? SMALL_L1 : KEY_COUNT;
  return {
    name: bus ? 'BentoCache 1.6 tiered + bus' : 'BentoCache 1.6 tiered',
    role,
    note:
      `\`bentostore().useL1Layer(memoryDriver({ maxItems: ${l1Max} })).useL2Layer(redisDriver({ connection }))\`` +
      (bus
        ? '`.useBus(redisBusDriver({ connection }))`: invalidations to other instances on each set.'
        : ', defaults.'),
    async setup(): Promise<Prepared> {
      const { BentoCache, bentostore } = await import('bentocache');
      const { memoryDriver } = await import('bentocache/drivers/memory');
      const { redisDriver, redisBusDriver } = await import('bentocache/drivers/redis');
      const parsed = new URL(env.redisUrl as string);
      const connection = { host: parsed.hostname, port: Number(parsed.port || 6379) };
      let store = bentostore()
        .useL1Layer(memoryDriver({ maxItems: l1Max }))
        .useL2Layer(redisDriver({ connection }));
      if (bus) store = store.useBus(redisBusDriver({ connection }));
      const cache = new BentoCache({
        default: 'tiered',
        prefix: `bench:tiered:bento${bus ? 'bus' : ''}`,
        stores: { tiered: store },
      });
      const { strings, docs } = data;
      await forAllKeys((i) => cache.set({ key: strings[i] as string, value: docs[i], ttl: TTL_MS }));
      return {
        async: true,
        op:
          op === 'set'
            ? (i) => cache.set({ key: strings[i & MASK] as string, value: docs[i & MASK], ttl: TTL_MS })
            : (i) => cache.get({ key: strings[i & MASK] as string }),
        teardown: () => cache.disconnectAll(),
      };
    },
  };
}

/** cache-manager 7 with two stores: an LRU-bounded in-memory Keyv, then Keyv on Redis (node-redis). */
function cacheManager(env: BenchEnv, data: TieredData, op: Op): Contender {
  const l1Max = op === 'l2 hit' ? SMALL_L1 : KEY_COUNT;
  return {
    name: 'cache-manager 7 tiered',
    role: 'peer',
    note:
      `\`createCache({ stores: [new Keyv({ store: new LRUCache({ max: ${l1Max} }) }), createKeyv(url)] })\`. ` +
      'Its get does not copy an L2 hit into L1 (no refill), so its L2 case does less work than the others.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('cache-manager');
      const { createKeyv } = await import('@keyv/redis');
      const { Keyv } = await import('keyv');
      const { LRUCache } = await import('lru-cache');
      const memory = new Keyv({ store: new LRUCache<string, NonNullable<unknown>>({ max: l1Max }) });
      const redis = createKeyv(env.redisUrl as string, { namespace: 'bench-tiered-cm' });
      const cache = createCache({ stores: [memory, redis] });
      const { strings, docs } = data;
      await forAllKeys((i) => cache.set(strings[i] as string, docs[i], TTL_MS));
      return {
        async: true,
        op:
          op === 'set'
            ? (i) => cache.set(strings[i & MASK] as string, docs[i & MASK], TTL_MS)
            : (i) => cache.get(strings[i & MASK] as string),
        teardown: async () => {
          await cache.disconnect();
        },
      };
    },
  };
}

function tieredCases(env: BenchEnv): Case[] {
  const data = buildData();
  const concurrent = { kind: 'concurrent', inFlight: IN_FLIGHT } as const;
  return [
    {
      name: 'tiered get, L1 hit',
      timing: { kind: 'batched' },
      expect: 'defined',
      target: L1_TARGET,
      contenders: [
        ours(env, data, 'l1 hit', 'compose'),
        ours(env, data, 'l1 hit', 'coherent'),
        memoryAlone(data),
        bento(env, data, 'l1 hit', false),
        cacheManager(env, data, 'l1 hit'),
      ],
    },
    {
      name: 'tiered get, L1 hit, against BentoCache',
      timing: { kind: 'batched' },
      expect: 'defined',
      target: BENTO_TARGET,
      contenders: [ours(env, data, 'l1 hit', 'coherent'), bento(env, data, 'l1 hit', false, 'reference')],
    },
    {
      name: 'tiered get, L2 hit + refill',
      timing: concurrent,
      expect: 'defined',
      contenders: [
        ours(env, data, 'l2 hit', 'compose'),
        ours(env, data, 'l2 hit', 'coherent'),
        redisAlone(env, data, 'l2 hit'),
        bento(env, data, 'l2 hit', false),
        cacheManager(env, data, 'l2 hit'),
      ],
    },
    {
      name: 'tiered set',
      timing: concurrent,
      contenders: [
        ours(env, data, 'set', 'compose'),
        ours(env, data, 'set', 'coherent'),
        redisAlone(env, data, 'set'),
        bento(env, data, 'set', false),
        bento(env, data, 'set', true),
        cacheManager(env, data, 'set'),
      ],
    },
  ];
}

/** Memory + Redis tiers: ours against BentoCache's and cache-manager's, on the same Redis. */
export const tieredSuite: Suite = {
  id: 'tiered',
  title: 'Tiered memory + Redis get and set',
  description: [
    `${KEY_COUNT} keys of ~1 KB JSON-like documents with a 1 h TTL, walked in order, on a standalone Redis on`,
    'loopback; every contender has its own key prefix and writes all its entries before timing.',
    '**L1 hit**: every key is in L1 (capacity ≥ the key count); batched, async peers awaited one at a time. The',
    'reference is our memory backend alone, so the ratio is what the tier costs on top of L1.',
    `**L2 hit + refill**: L1 holds ${SMALL_L1} entries and the walk cycles over all ${KEY_COUNT} keys, so each`,
    'key was evicted long before it comes back: every get misses L1, hits Redis, and (except cache-manager, which',
    'does not refill) copies the value into L1, evicting another. No contender clears anything inside the timed',
    'loop, and all pay the same eviction work. The reference is our Redis backend alone.',
    '**set**: writes L1 and Redis (and, for the coherent and bus rows, publishes one invalidation).',
  ].join(' '),
  requires: ['redis'],
  cases: tieredCases,
};
