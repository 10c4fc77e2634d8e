/**
 * Tags and batches of `@cache/cache`: what a tagged read costs next to an untagged one (memory, memory + Redis,
 * Redis alone), and what `getOrSetMany` of 100 cold keys costs next to 100 `getOrSet` calls (loader calls and
 * caller latency, a table of its own).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cache } from '@cache/cache';
import type { CacheBackend } from '@cache/core';
import { type JsonDocument, jsonDocuments } from '../data/documents.js';
import { formatDuration } from '../harness/report.js';
import { median } from '../harness/stats.js';
import { nowNs } from '../harness/timing-loops.js';
import type { BenchEnv, Case, Contender, Prepared, Suite } from '../harness/types.js';

const KEY_COUNT = 1024;
const MASK = KEY_COUNT - 1;
const TTL_MS = 3_600_000;
/** Tags of every tagged entry: one of its own, one shared by all (as `user:42` and `users`). */
const tagsOf = (i: number): string[] => [`user:${i}`, 'users'];

type StoreKind = 'memory' | 'memory + Redis' | 'Redis';

function noLoad(): never {
  throw new Error('the hit case called the loader: the key was not cached');
}

/** A store of `kind`, under a namespace of its own in Redis. */
async function makeStore(kind: StoreKind, env: BenchEnv, namespace: string): Promise<CacheBackend> {
  const { memoryBackend } = await import('@cache/memory');
  if (kind === 'memory') return memoryBackend({ maxEntries: KEY_COUNT * 2 });
  const { RedisBackend } = await import('@cache/redis');
  const redis = new RedisBackend({ url: env.redisUrl as string, namespace });
  if (kind === 'Redis') return redis;
  const { compose } = await import('@cache/core');
  return compose(memoryBackend({ maxEntries: KEY_COUNT * 2 }), redis);
}

/** A getOrSet hit on `kind`, entries stored with tags (given again with the call) or without. */
function hit(
  kind: StoreKind,
  env: BenchEnv,
  docs: readonly JsonDocument[],
  tagged: boolean,
  role: Contender['role'],
  tagCacheMs?: number,
): Contender {
  const variant = tagCacheMs === 0 ? ', tagCacheMs: 0' : '';
  return {
    name: `@cache/cache getOrSet, ${tagged ? 'tagged' : 'untagged'}${variant}`,
    role,
    note: tagged
      ? `entries stored with tags \`['user:<i>', 'users']\`, each read passing the same tags${
          tagCacheMs === 0
            ? '; `tagCacheMs: 0`: the tag instants are read from the store on every read (beside the entry read)'
            : ' (default `tagCacheMs`: 1 s, the instants are read once a second)'
        }.`
      : 'the same entries stored without tags.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('@cache/cache');
      const namespace = `bench:tags:${kind}:${tagged}:${tagCacheMs ?? 'd'}:`;
      const store = await makeStore(kind, env, namespace);
      const cache = createCache({
        store,
        ttlMs: TTL_MS,
        ...(tagCacheMs === undefined ? {} : { tagCacheMs }),
      });
      const keys = docs.map((_, i) => `user:${i}:profile`);
      const options = keys.map((_, i) => (tagged ? { tags: tagsOf(i) } : {}));
      for (let i = 0; i < KEY_COUNT; i++) {
        await cache.set(keys[i] as string, docs[i], options[i]);
      }
      // Every key read once before timing, 100 at a time: the tags' instants are known (read in batches), as in a
      // process that has been serving them; the timed reads then measure the steady state.
      for (let from = 0; from < KEY_COUNT; from += 100) {
        const some = keys.slice(from, from + 100);
        await Promise.all(some.map((key, j) => cache.getOrSet(key, noLoad, options[from + j])));
      }
      return {
        async: true,
        op: (i) => cache.getOrSet(keys[i & MASK] as string, noLoad, options[i & MASK]),
        teardown: async () => {
          await cache.clear().catch(() => undefined);
          await cache.close();
        },
      };
    },
  };
}

function tagCases(env: BenchEnv): Case[] {
  const docs = jsonDocuments(KEY_COUNT);
  const noRedis = env.redisUrl === undefined ? 'no Redis: REDIS_URL is not set' : undefined;
  const target = { minRatio: 1 / 1.3, text: 'a tagged read costs at most 1.3x an untagged one' };
  return [
    {
      name: 'getOrSet hit, tagged vs untagged (memory)',
      timing: { kind: 'batched' },
      expect: 'defined',
      target,
      contenders: [hit('memory', env, docs, true, 'ours'), hit('memory', env, docs, false, 'reference')],
    },
    {
      name: 'getOrSet hit, tagged vs untagged (memory + Redis, memory hits)',
      timing: { kind: 'batched' },
      expect: 'defined',
      target,
      ...(noRedis === undefined ? {} : { skip: noRedis }),
      contenders: [
        hit('memory + Redis', env, docs, true, 'ours'),
        hit('memory + Redis', env, docs, false, 'reference'),
      ],
    },
    {
      name: 'getOrSet hit, tagged vs untagged (Redis alone)',
      timing: { kind: 'concurrent', inFlight: [1, 100] },
      expect: 'defined',
      target,
      ...(noRedis === undefined ? {} : { skip: noRedis }),
      contenders: [
        hit('Redis', env, docs, true, 'ours'),
        hit('Redis', env, docs, false, 'reference'),
        hit('Redis', env, docs, true, 'variant', 0),
      ],
    },
  ];
}

// ── getOrSetMany of 100 cold keys ─────────────────────────────────────────────────────────────────────────

const BATCH = 100;
const ROUNDS = 7;
/** What one loader call costs, whatever its number of keys (one query with `WHERE id IN (...)`). */
const LOADER_MS = 5;

type Way = 'getOrSetMany' | '100 getOrSet at once' | '100 getOrSet in turn';
const WAYS: readonly Way[] = ['getOrSetMany', '100 getOrSet at once', '100 getOrSet in turn'];

interface Measured {
  readonly loaderCalls: number;
  readonly ns: number;
}

async function coldRound(
  cache: Cache,
  way: Way,
  prefix: string,
  docs: readonly JsonDocument[],
): Promise<Measured> {
  let loaderCalls = 0;
  const query = async (count: number): Promise<JsonDocument[]> => {
    loaderCalls++;
    await sleep(LOADER_MS);
    return docs.slice(0, count) as JsonDocument[];
  };
  const keys = Array.from({ length: BATCH }, (_, i) => `${prefix}:${i}`);
  const start = nowNs();
  let values: unknown[];
  if (way === 'getOrSetMany') {
    values = await cache.getOrSetMany(keys, (wanted) => query(wanted.length));
  } else if (way === '100 getOrSet at once') {
    values = await Promise.all(keys.map((key) => cache.getOrSet(key, () => query(1).then((d) => d[0]))));
  } else {
    values = [];
    for (const key of keys) values.push(await cache.getOrSet(key, () => query(1).then((d) => d[0])));
  }
  const ns = nowNs() - start;
  if (values.length !== BATCH || values.some((v) => v === undefined)) throw new Error(`${way} lost values`);
  return { loaderCalls, ns };
}

/** 100 cold keys per round, each way in turn (the first rotating), on memory and on memory + Redis. */
async function coldBatches(env: BenchEnv, log: (line: string) => void): Promise<string> {
  log('cache-tags / getOrSetMany of 100 cold keys');
  const docs = jsonDocuments(BATCH);
  const { createCache } = await import('@cache/cache');
  const kinds: StoreKind[] = env.redisUrl === undefined ? ['memory'] : ['memory', 'memory + Redis'];
  const rows = [
    '| store | way | loader calls | median latency (100 keys) | ÷ getOrSetMany |',
    '|---|---|--:|--:|--:|',
  ];
  const verdicts: string[] = [];
  for (const kind of kinds) {
    const store = await makeStore(kind, env, 'bench:tags:cold:');
    const cache = createCache({ store, ttlMs: TTL_MS, namespace: `cold${Date.now()}` });
    const measured = new Map<Way, Measured[]>(WAYS.map((w) => [w, []]));
    try {
      for (let r = 0; r < ROUNDS; r++) {
        for (let j = 0; j < WAYS.length; j++) {
          const way = WAYS[(j + r) % WAYS.length] as Way;
          measured.get(way)?.push(await coldRound(cache, way, `${way}:${r}`, docs));
          await sleep(5); // the writes after the loads land before the next way starts
        }
      }
    } finally {
      await cache.clear().catch(() => undefined);
      await cache.close();
    }
    const many = median((measured.get('getOrSetMany') ?? []).map((m) => m.ns));
    for (const way of WAYS) {
      const runs = measured.get(way) ?? [];
      const calls = median(runs.map((m) => m.loaderCalls));
      const ns = median(runs.map((m) => m.ns));
      const name = way === 'getOrSetMany' ? `**${way}** (ours)` : way;
      rows.push(`| ${kind} | ${name} | ${calls} | ${formatDuration(ns)} | ${(ns / many).toFixed(1)}x |`);
    }
    const ourCalls = (measured.get('getOrSetMany') ?? []).map((m) => m.loaderCalls);
    verdicts.push(
      `${kind}: ${ourCalls.every((n) => n === 1) ? '**met**' : '**NOT met**'} (loader calls by round: ${ourCalls.join(', ')})`,
    );
  }
  return [
    '**getOrSetMany of 100 cold keys** (not ops/s): each round asks for 100 keys never seen, by one `getOrSetMany`,',
    `by 100 \`getOrSet\` at once (\`Promise.all\`), and by 100 \`getOrSet\` awaited in turn; the loader stands for one`,
    `database query of ${LOADER_MS} ms whatever its number of keys. ${ROUNDS} rounds, ways interleaved, medians.`,
    '',
    ...rows,
    '',
    `Target "one loader call for the 100 keys": ${verdicts.join('; ')}.`,
  ].join('\n');
}

/** Tagged vs untagged reads, and getOrSetMany of cold keys. */
export const cacheTagsSuite: Suite = {
  id: 'cache-tags',
  title: 'Tags and batches (@cache/cache)',
  description: [
    `**Tagged vs untagged getOrSet hit**: ${KEY_COUNT.toLocaleString('en-US')} keys holding the same ~1 KB`,
    "objects, stored before timing with `set` (tagged: `tags: ['user:<i>', 'users']`); each timed op is a",
    '`getOrSet` hit passing a loader that throws and, for tagged entries, the same tags. The reference is the same',
    'read of untagged entries on the same kind of store: the ratio is what tags cost on a read. Memory and',
    'memory + Redis (hits from memory) are batched, one in flight; Redis alone is timed at 1 and 100 in flight.',
    'Target: tagged ÷ untagged ≥ 0.77 (a tagged read costs at most 1.3x).',
  ].join(' '),
  cases: tagCases,
  async extras(env, log) {
    return [await coldBatches(env, log)];
  },
};
