// Cost of a set that evicts (the cache is full and every key is new to it), memory backend against a bare
// lru-cache of the same capacity. Keys and values are made before timing. Run: node bench/set.mjs (after building).
import { CacheKey, CacheValue } from '@cache/core';
import { LRUCache } from 'lru-cache';
import { memoryBackend } from '../dist/index.js';

const CAPACITY = 10_000;
const KEYS = 100_000;
const WRITES = 1_000_000;
const ROUNDS = Number(process.env.ROUNDS ?? 9);

const keys = Array.from({ length: KEYS }, (_, i) =>
  CacheKey.from({ tenant: 'acme', user: String(i) }, { prefix: 'app' }),
);
const names = keys.map((key) => key.canonical);
const values = keys.map((_, i) => new CacheValue({ id: i, name: `user ${i}`, roles: ['reader', 'writer'] }));
const expiring = keys.map((_, i) => new CacheValue({ id: i, name: `user ${i}` }, Date.now() + 3_600_000));

const lru = new LRUCache({ max: CAPACITY });
const memory = memoryBackend({ maxEntries: CAPACITY });
const memoryTtl = memoryBackend({ maxEntries: CAPACITY });
const memoryBytes = memoryBackend({ maxBytes: 3_000_000 });

const cases = {
  'lru-cache set': () => {
    for (let i = 0; i < WRITES; i++) lru.set(names[i % KEYS], values[i % KEYS]);
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

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < ROUNDS + 2; round++) {
  for (const [name, fn] of Object.entries(cases)) {
    const start = process.hrtime.bigint();
    fn();
    if (round >= 2) samples[name].push(Number(process.hrtime.bigint() - start) / WRITES);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const base = median(samples['lru-cache set']);
console.log(
  `node ${process.version}, capacity ${CAPACITY}, ${KEYS} keys written in a cycle, median of ${ROUNDS} rounds`,
);
console.log(`(maxBytes run holds ${memoryBytes.size} entries)`);
console.log('| case | ns/set | ops/s | vs lru-cache set |');
console.log('|---|---:|---:|---:|');
for (const name of Object.keys(cases)) {
  const ns = median(samples[name]);
  console.log(
    `| ${name} | ${ns.toFixed(1)} | ${(1e9 / ns / 1e6).toFixed(2)}M | ${(ns / base).toFixed(2)}x |`,
  );
}
