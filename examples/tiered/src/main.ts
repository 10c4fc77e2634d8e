/**
 * A memory tier in front of Redis, in one short run: first getOrSet over the tiers (stampede, stale while
 * refreshing, fail-safe), then what hits where, how long each tier takes, and two "processes" kept coherent
 * through Redis. Without a reachable Redis it runs on the memory tier alone and says so.
 * Run it with `pnpm start`; `REDIS_URL` picks the server (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { runGetOrSet } from './get-or-set.js';
import { runMemoryOnly } from './memory-only.js';
import { PROBE_TIMEOUT_MS, probeRedis } from './probe.js';
import { safeUrl } from './timing.js';
import { runWithRedis } from './with-redis.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Everything this run writes lives under its own prefix, and is removed at the end (never FLUSHALL).
const namespace = `demo:tiered:${randomBytes(4).toString('hex')}:`;

console.log(`Tiered cache demo: memory (L1, per process) in front of Redis (L2, shared) at ${safeUrl(url)}`);
const unreachable = await probeRedis(url, namespace);
if (unreachable === undefined) {
  console.log(`Redis answered; keys go under "${namespace}" and are removed at the end.`);
  console.log('\n── getOrSet over memory + Redis (@cache/cache) ──');
  const redis = new RedisBackend({ url, namespace, connectTimeoutMs: 2000 });
  const tiers = compose(memoryBackend({ maxEntries: 10_000 }), redis);
  try {
    await runGetOrSet(tiers);
  } finally {
    await redis.clear().catch(() => undefined);
    await tiers.close();
  }
  console.log('\n── the tiers underneath (@cache/redis coherentTiers) ──');
  await runWithRedis(url, namespace);
} else {
  console.log(`\nRedis is NOT reachable (${unreachable}; waited at most ${PROBE_TIMEOUT_MS} ms).`);
  console.log('Running on the memory tier ALONE: no sharing between processes, no Redis timings.');
  console.log('Start a Redis server, or set REDIS_URL, to see both tiers.');
  console.log('\n── getOrSet over memory alone (@cache/cache) ──');
  const memory = memoryBackend({ maxEntries: 10_000 });
  try {
    await runGetOrSet(memory);
  } finally {
    await memory.close();
  }
  console.log('\n── the memory tier alone ──');
  await runMemoryOnly();
}
