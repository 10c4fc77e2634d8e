/**
 * cache-manager 7 over @cache backends through @cache/keyv, in one short run: two Keyv stores (memory, then
 * Redis), then one Keyv over compose(memory, Redis) in two "processes". Without a reachable Redis it runs on the
 * memory tier alone, says so, and exits 0. `REDIS_URL` picks the server (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { KeyvCacheStore } from '@cache/keyv';
import { memoryBackend } from '@cache/memory';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { runOneStore } from './one-store.js';
import { PROBE_TIMEOUT_MS, probeRedis, safeUrl } from './probe.js';
import { runTwoStores } from './two-stores.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Everything this run writes lives under its own Redis namespace, and is removed at the end (never FLUSHALL).
const namespace = `demo:keyv:${randomBytes(4).toString('hex')}:`;

console.log(`cache-manager 7 + Keyv over @cache backends (Redis at ${safeUrl(url)})`);
const unreachable = await probeRedis(url, namespace);
if (unreachable === undefined) {
  console.log(`Redis answered; keys go under "${namespace}" and are removed at the end.`);
  console.log('\n── two Keyv stores: createCache({ stores: [memory, Redis] }) ──');
  await runTwoStores(url, namespace);
  console.log('\n── one Keyv store over compose(memory, Redis), two processes ──');
  await runOneStore(url, namespace);
} else {
  console.log(`\nRedis is NOT reachable (${unreachable}; waited at most ${PROBE_TIMEOUT_MS} ms).`);
  console.log(
    'Running cache-manager over the memory tier ALONE. Start Redis, or set REDIS_URL, to see both tiers.',
  );
  const cache = createCache({
    stores: [new Keyv({ store: new KeyvCacheStore(memoryBackend({ maxEntries: 1000 })) })],
  });
  await cache.set('user:42', { id: 42, name: 'Ada' }, 60_000);
  console.log(`  get user:42 -> ${JSON.stringify(await cache.get('user:42'))}`);
  await cache.disconnect();
}
console.log('\nDone.');
