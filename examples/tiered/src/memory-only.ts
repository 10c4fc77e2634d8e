import { CacheKey, CacheValue, type ReadInfo } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { duration, nsPerOp } from './timing.js';

/** The demo without Redis: the memory tier alone, with the same keys and values as the tiered run. */
export async function runMemoryOnly(): Promise<void> {
  const memory = memoryBackend({ maxEntries: 10_000 });
  const key = CacheKey.from({ user: '42' }, { prefix: 'demo' });
  memory.set(key, CacheValue.fromTtl({ name: 'Ada', plan: 'pro' }, { ttlMs: 60_000 }));

  const info: ReadInfo = {};
  const hit = memory.get<{ name: string }>(key, info);
  console.log(`   get user 42: ${hit?.data.name} from "${info.source}"`);
  const ns = nsPerOp(200_000, () => memory.get(key));
  console.log(`   a memory hit takes ${duration(ns / 1000)} (mean of 200,000, synchronous: no await)`);
  console.log(
    `   get user 7: ${memory.get(CacheKey.from({ user: '7' }, { prefix: 'demo' })) ? 'hit' : 'miss'}`,
  );
  console.log(
    '   Nothing is shared: another process would not see these entries, and they are gone on exit.',
  );
  await memory.close();
}
