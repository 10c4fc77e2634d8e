// @keyv/test-suite, the suite every Keyv store runs, over a memory backend and over memory + real Redis.
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import keyvTestSuite from '@keyv/test-suite';
import Keyv from 'keyv';
import * as vitest from 'vitest';
import { KeyvCacheStore } from '../src/index.js';
import { scratchRedis } from './helpers.js';

vitest.describe('@keyv/test-suite over memory', () => {
  const memory = memoryBackend({ maxEntries: 10_000 });
  keyvTestSuite(vitest, Keyv, () => new KeyvCacheStore(memory));
});

vitest.describe('@keyv/test-suite over compose(memory, Redis)', () => {
  const { redis, drop } = scratchRedis();
  const tiers = compose(memoryBackend({ maxEntries: 10_000 }), redis);
  vitest.afterAll(drop);
  keyvTestSuite(vitest, Keyv, () => new KeyvCacheStore(tiers));
});
