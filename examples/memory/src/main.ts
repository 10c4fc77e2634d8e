/**
 * The in-memory backend in one short run: a value's fresh -> stale -> expired timeline, a hit and a miss,
 * what delete reports, and eviction once `maxEntries` is reached. Run it with `pnpm start`.
 */
import { CacheKey, CacheValue, type ReadInfo, urlEncodeKey } from '@cache/core';
import { memoryBackend } from '@cache/memory';

interface Profile {
  name: string;
  plan: 'free' | 'pro';
}

const started = Date.now();
const elapsed = () => `t=${String(Date.now() - started).padStart(3)} ms`;
const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, started + ms - Date.now()));
const show = (key: CacheKey) => urlEncodeKey(key);

const cache = memoryBackend({ maxEntries: 3 });
const ada = CacheKey.from({ user: '42' }, { prefix: 'profiles', version: 1 });

console.log('1. One value through its timeline: fresh for 100 ms, then stale, gone at 200 ms');
cache.set(ada, CacheValue.fromTtl<Profile>({ name: 'Ada', plan: 'pro' }, { ttlMs: 100, graceMs: 100 }));
console.log(`   ${elapsed()}  set ${show(ada)}`);
for (const at of [50, 150, 250]) {
  await sleepUntil(at);
  const info: ReadInfo = {};
  const value = cache.get<Profile>(ada, info);
  if (value === undefined) {
    console.log(`   ${elapsed()}  get: miss (expired values are never returned)`);
  } else {
    const state = value.state();
    const advice = state === 'stale' ? ' (still served: time to refresh it)' : '';
    console.log(
      `   ${elapsed()}  get: hit from "${info.source}", ${value.data.name}, state ${state}${advice}, ` +
        `expires in ${value.ttl()} ms`,
    );
  }
}

console.log('\n2. Hit and miss');
const grace = CacheKey.from({ user: '7' }, { prefix: 'profiles', version: 1 });
cache.set(grace, CacheValue.fromTtl<Profile>({ name: 'Grace', plan: 'free' }, { ttlMs: 60_000 }));
console.log(`   get ${show(grace)}: ${cache.get<Profile>(grace)?.data.name ?? 'miss'}`);
const nobody = CacheKey.from({ user: '404' }, { prefix: 'profiles', version: 1 });
console.log(`   get ${show(nobody)}: ${cache.get<Profile>(nobody)?.data.name ?? 'miss'}`);
const otherVersion = grace.with({ version: 2 });
console.log(
  `   get ${show(otherVersion)} (same parts, version 2): ${cache.get(otherVersion) ? 'hit' : 'miss'}`,
);

console.log('\n3. Delete reports what it removed');
console.log(`   delete ${show(grace)}: ${JSON.stringify(cache.delete(grace))}`);
console.log(`   delete it again:  ${JSON.stringify(cache.delete(grace))}`);

console.log('\n4. Eviction: maxEntries is 3, and a fourth entry arrives');
cache.clear();
const pages = ['home', 'pricing', 'docs', 'blog'].map((page) =>
  CacheKey.of('page', page, { prefix: 'html' }),
);
const [home, pricing, docs, blog] = pages as [CacheKey, CacheKey, CacheKey, CacheKey];
for (const page of [home, pricing, docs]) cache.set(page, new CacheValue(`<h1>${page.parts[0]?.value}</h1>`));
cache.get(home);
console.log(`   stored home, pricing, docs; read home; now storing blog (size before: ${cache.size})`);
cache.set(blog, new CacheValue('<h1>blog</h1>'));
const kept = pages.map((page) => cache.get(page) !== undefined);
pages.forEach((page, i) => {
  console.log(`   ${show(page).padEnd(42)} ${kept[i] ? 'kept' : 'evicted'}`);
});
console.log(
  kept[0]
    ? `   size after: ${cache.size}; home, read since it was stored, survived (SIEVE spares entries that were hit)`
    : `   size after: ${cache.size}`,
);

await cache.close();
