// What reading an oversized payload costs: `node scripts/oversized-payload-rss.mjs 200 plant` plants a 200 MiB JSON
// payload (no codec tag, as another program would) in the namespace t:rss-probe:, then
// `node --expose-gc scripts/oversized-payload-rss.mjs 200` reads it with the defaults (json, no compressor, 64 MiB
// limit) and prints the outcome and the peak RSS. Needs REDIS_URL and a build (`pnpm exec turbo run build`).
import { CacheKey } from '@cache/core';
import { json } from '@cache/formats';
import { createClient } from '@redis/client';
import { RedisBackend } from '../dist/index.js';
const mib = Number(process.argv[2] ?? 200);
const ns = 't:rss-probe:';
const redis = new RedisBackend({
  url: process.env.REDIS_URL,
  namespace: ns,
  valueFormat: json,
  responseTimeoutMs: 30_000,
});
const key = CacheKey.of('big', '1');
const raw = createClient({ url: process.env.REDIS_URL });
await raw.connect();
if (process.argv[3] === 'plant') {
  await raw.hSet(redis.storeKey(key), 'd', `[${'1,'.repeat((mib * 1048576) / 2 - 1)}1]`);
  await raw.close();
  await redis.close();
  process.exit(0);
}
if (global.gc) global.gc();
const before = process.memoryUsage().rss;
let outcome;
try {
  await redis.get(key);
  outcome = 'decoded';
} catch (e) {
  outcome = e.code;
}
const peak = process.resourceUsage().maxRSS * 1024;
console.log(
  JSON.stringify({
    mib,
    outcome,
    rssBeforeMiB: Math.round(before / 1048576),
    peakRssMiB: Math.round(peak / 1048576),
    peakMinusBeforeMiB: Math.round((peak - before) / 1048576),
  }),
);
await raw.del(redis.storeKey(key));
await raw.close();
await redis.close();
