// Cost of a get hit: the memory backend against a bare lru-cache holding the same CacheValue objects.
// Keys are made, and their canonical strings memoized, before timing; lookups follow a shuffled index array.
// Each case is its own function, so no call site is shared between cases; cases are interleaved over rounds and
// the median round is reported. Run: node bench/get-hit.mjs (after building).
import { CacheKey, CacheValue } from '@cache/core';
import { LRUCache } from 'lru-cache';
import { memoryBackend } from '../dist/index.js';
import { random } from './workload.mjs';

const KEYS = 10_000;
const LOOKUPS = 500_000;
const ROUNDS = Number(process.env.ROUNDS ?? 41);

const keys = Array.from({ length: KEYS }, (_, i) =>
  CacheKey.from({ tenant: 'acme', user: String(i) }, { prefix: 'app' }),
);
const canonical = keys.map((key) => key.canonical); // memoizes canonical as well
const next = random(7);
const order = Int32Array.from({ length: LOOKUPS }, () => Math.floor(next() * KEYS));
const forever = keys.map((_, i) => new CacheValue({ id: i, name: `user ${i}` }));
const expiring = keys.map((_, i) => new CacheValue({ id: i, name: `user ${i}` }, Date.now() + 3_600_000));

// The design we measured against: lru-cache underneath, with our expiry check and ReadInfo on top.
class LruBacked {
  #lru = new LRUCache({ max: KEYS });
  label = 'memory';
  get(key, info) {
    const value = this.#lru.get(key.canonical);
    if (value === undefined) return undefined;
    if (value.expire !== undefined && value.expire <= Date.now()) {
      this.#lru.delete(key.canonical);
      return undefined;
    }
    if (info !== undefined) info.source = this.label;
    return value;
  }
  set(key, value) {
    this.#lru.set(key.canonical, value);
  }
}

const lru = new LRUCache({ max: KEYS });
const lruBacked = new LruBacked();
const lruTtl = new LRUCache({ max: KEYS, ttl: 3_600_000 });
const lruExact = new LRUCache({ max: KEYS, ttl: 3_600_000, ttlResolution: 0 });
const map = new Map();
const memory = memoryBackend({ maxEntries: KEYS });
const memoryTtl = memoryBackend({ maxEntries: KEYS });
const memoryBytes = memoryBackend({ maxBytes: 64 * 1024 * 1024 });
const memoryClone = memoryBackend({ maxEntries: KEYS, clone: true });
for (let i = 0; i < KEYS; i++) {
  lru.set(canonical[i], forever[i]);
  lruTtl.set(canonical[i], forever[i]);
  lruExact.set(canonical[i], forever[i]);
  map.set(canonical[i], forever[i]);
  lruBacked.set(keys[i], forever[i]);
  memory.set(keys[i], forever[i]);
  memoryTtl.set(keys[i], expiring[i]);
  memoryBytes.set(keys[i], forever[i]);
  memoryClone.set(keys[i], forever[i]);
}

let sink = 0;
const cases = {
  'Map.get (floor)': () => {
    for (let i = 0; i < LOOKUPS; i++) if (map.get(canonical[order[i]]) !== undefined) sink++;
  },
  'lru-cache get': () => {
    for (let i = 0; i < LOOKUPS; i++) if (lru.get(canonical[order[i]]) !== undefined) sink++;
  },
  'memory get': () => {
    for (let i = 0; i < LOOKUPS; i++) if (memory.get(keys[order[i]]) !== undefined) sink++;
  },
  'lru-cache wrapped as a backend': () => {
    for (let i = 0; i < LOOKUPS; i++) if (lruBacked.get(keys[order[i]]) !== undefined) sink++;
  },
  'memory get, info': () => {
    const info = {};
    for (let i = 0; i < LOOKUPS; i++) if (memory.get(keys[order[i]], info) !== undefined) sink++;
  },
  'memory get, maxBytes': () => {
    for (let i = 0; i < LOOKUPS; i++) if (memoryBytes.get(keys[order[i]]) !== undefined) sink++;
  },
  'lru-cache get, ttl option': () => {
    for (let i = 0; i < LOOKUPS; i++) if (lruTtl.get(canonical[order[i]]) !== undefined) sink++;
  },
  'lru-cache get, ttlResolution: 0': () => {
    for (let i = 0; i < LOOKUPS; i++) if (lruExact.get(canonical[order[i]]) !== undefined) sink++;
  },
  'lru-cache get(key.canonical), ttlResolution: 0': () => {
    for (let i = 0; i < LOOKUPS; i++) if (lruExact.get(keys[order[i]].canonical) !== undefined) sink++;
  },
  'memory get, entries expire': () => {
    for (let i = 0; i < LOOKUPS; i++) if (memoryTtl.get(keys[order[i]]) !== undefined) sink++;
  },
  'memory get, clone': () => {
    for (let i = 0; i < LOOKUPS / 20; i++) if (memoryClone.get(keys[order[i]]) !== undefined) sink++;
  },
};
const lookups = (name) => (name === 'memory get, clone' ? LOOKUPS / 20 : LOOKUPS);
// Entries with an expiry are compared with lru-cache reading the clock on every get too, through the same
// CacheKey -> canonical string path, since a clock read stalls the loop on every memory access before it.
const reference = (name) =>
  name === 'memory get, entries expire' ? 'lru-cache get(key.canonical), ttlResolution: 0' : 'lru-cache get';

// Each round runs every case once, in an order rotated per round; a case's cost is compared with the reference
// measured in the same round, so load from other processes shifts both sides of a ratio alike.
const names = Object.keys(cases);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < ROUNDS + 2; round++) {
  const timings = {};
  for (let c = 0; c < names.length; c++) {
    const name = names[(c + round) % names.length];
    const start = process.hrtime.bigint();
    cases[name]();
    timings[name] = Number(process.hrtime.bigint() - start) / lookups(name);
  }
  if (round < 2) continue; // the first two rounds warm the JIT
  for (const name of names)
    samples[name].push({ ns: timings[name], ratio: timings[name] / timings[reference(name)] });
}
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
console.log(`node ${process.version}, ${KEYS} keys, ${LOOKUPS} hits per case and round, ${ROUNDS} rounds`);
console.log('| case | ns/get (median) | ops/s | ratio to reference, median (quartiles) | reference |');
console.log('|---|---:|---:|---:|---|');
for (const name of names) {
  const ns = quantile(
    samples[name].map((x) => x.ns),
    0.5,
  );
  const ratios = samples[name].map((x) => x.ratio);
  const [q1, mid, q3] = [0.25, 0.5, 0.75].map((q) => quantile(ratios, q).toFixed(2));
  console.log(
    `| ${name} | ${ns.toFixed(1)} | ${(1e9 / ns / 1e6).toFixed(1)}M | ${mid}x (${q1}–${q3}) | ${reference(name)} |`,
  );
}
if (sink === 0) console.log('no hits: the benchmark is broken');
