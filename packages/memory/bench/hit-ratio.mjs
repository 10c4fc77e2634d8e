// Hit ratio of the memory backend (SIEVE) against a bare lru-cache of the same capacity, on seeded traces.
// Every miss is followed by a set, as a read-through cache does. Run: node bench/hit-ratio.mjs (after building).
import { CacheKey, CacheValue } from '@cache/core';
import { LRUCache } from 'lru-cache';
import { memoryBackend } from '../dist/index.js';
import { zipfTrace, zipfWithScans } from './workload.mjs';

const UNIVERSE = 100_000;
const REQUESTS = 2_000_000;

function run(trace, keyCount, capacity) {
  const keys = Array.from({ length: keyCount }, (_, i) => CacheKey.of('item', String(i)));
  const names = keys.map((key) => key.canonical);
  const value = new CacheValue({ payload: 'x' });

  const lru = new LRUCache({ max: capacity });
  let lruHits = 0;
  for (let i = 0; i < trace.length; i++) {
    const name = names[trace[i]];
    if (lru.get(name) !== undefined) lruHits++;
    else lru.set(name, value);
  }

  const memory = memoryBackend({ maxEntries: capacity });
  let memoryHits = 0;
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]];
    if (memory.get(key) !== undefined) memoryHits++;
    else memory.set(key, value);
  }
  return { lru: lruHits / trace.length, sieve: memoryHits / trace.length };
}

const percent = (ratio) => `${(ratio * 100).toFixed(2)}%`;
const rows = [];
for (const alpha of [0.7, 0.9, 1.1]) {
  const trace = zipfTrace(UNIVERSE, alpha, REQUESTS, 42);
  for (const capacity of [1_000, 10_000]) {
    rows.push({ workload: `zipf ${alpha}`, capacity, ...run(trace, UNIVERSE, capacity) });
  }
}
{
  const { trace, keys } = zipfWithScans(UNIVERSE, 0.9, REQUESTS, 42, 20_000, 5_000);
  for (const capacity of [1_000, 10_000]) {
    rows.push({ workload: 'zipf 0.9 + scans', capacity, ...run(trace, keys, capacity) });
  }
}
console.log(
  `${UNIVERSE} keys, ${REQUESTS} requests per trace; "+ scans": 5,000 one-off keys after every 20,000 requests`,
);
console.log('| workload | capacity | lru-cache | memory (SIEVE) | difference |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) {
  const diff = ((row.sieve - row.lru) * 100).toFixed(2);
  console.log(
    `| ${row.workload} | ${row.capacity} | ${percent(row.lru)} | ${percent(row.sieve)} | ${diff} pts |`,
  );
}
