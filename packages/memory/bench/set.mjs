// Cost of a set that evicts (the cache is full and every key is new to it), memory backend against a bare
// lru-cache of the same capacity. Keys and values are made before timing. Run: node bench/set.mjs (after building).
import { CacheKey, CacheValue } from '@cache/core';
import { LRUCache } from 'lru-cache';
import { memoryBackend } from '../dist/index.js';

const CAPACITY = 10_000;
const KEYS = 100_000;
const WRITES = 200_000;
const ROUNDS = Number(process.env.ROUNDS ?? 25);

const keys = Array.from({ length: KEYS }, (_, i) =>
  CacheKey.from({ tenant: 'acme', user: String(i) }, { prefix: 'app' }),
);
const canonical = keys.map((key) => key.canonical);
const values = keys.map((_, i) => new CacheValue({ id: i, name: `user ${i}`, roles: ['reader', 'writer'] }));
const expiring = keys.map((_, i) => new CacheValue({ id: i, name: `user ${i}` }, Date.now() + 3_600_000));

const lru = new LRUCache({ max: CAPACITY });
const memory = memoryBackend({ maxEntries: CAPACITY });
const memoryTtl = memoryBackend({ maxEntries: CAPACITY });
const memoryBytes = memoryBackend({ maxBytes: 3_000_000 });

const cases = {
  'lru-cache set': () => {
    for (let i = 0; i < WRITES; i++) lru.set(canonical[i % KEYS], values[i % KEYS]);
  },
  'memory set': () => {
    for (let i = 0; i < WRITES; i++) memory.set(keys[i % KEYS], values[i % KEYS]);
  },
  'memory set, entries expire': () => {
    for (let i = 0; i < WRITES; i++) memoryTtl.set(keys[i % KEYS], expiring[i % KEYS]);
  },
  'memory set, maxBytes (default sizeOf)': () => {
    for (let i = 0; i < WRITES; i++) memoryBytes.set(keys[i % KEYS], values[i % KEYS]);
  },
};

// As in get-hit.mjs: cases run in an order rotated per round, each divided by lru-cache's time in the same round.
const names = Object.keys(cases);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS + 2; round++) {
  const timings = {};
  for (let c = 0; c < names.length; c++) {
    const name = names[(c + round) % names.length];
    const start = process.hrtime.bigint();
    cases[name]();
    timings[name] = Number(process.hrtime.bigint() - start) / WRITES;
  }
  if (round < 2) continue;
  for (const name of names)
    samples[name].push({ ns: timings[name], ratio: timings[name] / timings['lru-cache set'] });
}
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
console.log(
  `node ${process.version}, capacity ${CAPACITY}, ${KEYS} keys written in a cycle, ${ROUNDS} rounds`,
);
console.log(`(the maxBytes backend holds ${memoryBytes.size} entries)`);
console.log('| case | ns/set (median) | ops/s | ratio to lru-cache set, median (quartiles) |');
console.log('|---|---:|---:|---:|');
for (const name of names) {
  const ns = quantile(
    samples[name].map((x) => x.ns),
    0.5,
  );
  const ratios = samples[name].map((x) => x.ratio);
  const [q1, mid, q3] = [0.25, 0.5, 0.75].map((q) => quantile(ratios, q).toFixed(2));
  console.log(`| ${name} | ${ns.toFixed(1)} | ${(1e9 / ns / 1e6).toFixed(2)}M | ${mid}x (${q1}–${q3}) |`);
}
