import { randomBytes } from 'node:crypto';
import { createCache } from '@cache/cache';
import { type CacheBackend, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { instrumentCache } from '@cache/otel';
import { RedisBackend } from '@cache/redis';
import { probeRedis } from './probe.js';
import { scrape, serveMetrics } from './prometheus.js';
import { formatBound, hitRatios, quantiles, statsFromCache, statsFromScrape } from './summary.js';
import { runWorkload } from './workload.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Unique per run, so concurrent runs against one Redis never see each other's keys.
const redisNamespace = `cache-examples:observability:${randomBytes(4).toString('hex')}:`;

const endpoint = await serveMetrics();
const otel = instrumentCache({ meterProvider: endpoint.meterProvider, traces: false, memoryBackends: [] });
const memory = memoryBackend({ maxEntries: 10_000 });
const unreachable = await probeRedis(url);
const redis = unreachable === undefined ? new RedisBackend({ url, namespace: redisNamespace }) : undefined;
if (redis === undefined) {
  console.log(`Redis at ${url} did not answer (${unreachable}): running on the memory tier alone.`);
} else {
  console.log(`memory (L1) in front of Redis (L2) at ${url}, keys under ${redisNamespace}`);
}
const store: CacheBackend = redis === undefined ? memory : compose(memory, redis);
const cache = createCache({ store, namespace: 'shop' });
cache.on('fail-safe', (event) => console.log(`fail-safe for ${event.key}: ${event.error.code}`));

let failed = false;
try {
  await runWorkload(cache, memory, redis !== undefined);
  const samples = await scrape(endpoint.url);
  console.log(`\nscraped ${endpoint.url}: ${samples.length} samples\n`);

  console.log('hit ratio per tier (hits / get + getOrSet calls):');
  for (const [tier, hits, ratio] of hitRatios(samples)) {
    console.log(`  ${tier.padEnd(14)} ${String(hits).padStart(3)} hits  ${(ratio * 100).toFixed(0)}%`);
  }
  console.log('latency per operation (a sample of the calls; bucket upper bounds):');
  for (const [operation, { count, bounds }] of quantiles(
    samples,
    'cache_operation_duration',
    'cache_operation',
    [0.5, 0.99],
  )) {
    const [p50 = 0, p99 = 0] = bounds;
    console.log(
      `  ${operation.padEnd(9)} n=${String(count).padStart(2)}  p50 ${formatBound(p50)}  p99 ${formatBound(p99)}`,
    );
  }

  const scraped = statsFromScrape(samples);
  const stats = statsFromCache(cache.stats());
  console.log(`\n  ${'counter'.padEnd(26)} /metrics  stats()`);
  for (const name of [...new Set([...Object.keys(stats), ...Object.keys(scraped)])].sort()) {
    const agree = scraped[name] === stats[name];
    if (!agree) failed = true;
    console.log(
      `  ${name.padEnd(26)} ${String(scraped[name] ?? '-').padStart(8)}  ${String(stats[name] ?? '-').padStart(7)}${agree ? '' : '  DISAGREE'}`,
    );
  }
  console.log(failed ? '\nthe scrape and cache.stats() disagree' : '\nthe scrape and cache.stats() agree');
} finally {
  await cache.clear(); // this run's keys, under its own namespace; never the whole database
  await cache.close(); // closes memory and Redis
  otel.disable();
  await endpoint.close();
}
if (failed) process.exitCode = 1;
