// The conformance suite on compositions: a composition is a backend, so it must pass what every backend passes.
// memory+memory, memory+redis (single node and cluster), memory+(memory+redis), and the coherent tiers (memory+redis
// kept coherent through pub/sub). `layers` is the number of places one `set` writes, which is what `delete` counts.
import { runBackendConformance } from '@cache/backend-tests';
import { bitcode, type CacheBackend, type Composition, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, it } from 'vitest';
import { type CoherentTiers, coherentTiers, type RedisBackend } from '../src/index.js';
import { clusterBackend, REDIS_URL, singleBackend, uniqueNamespace } from './helpers.js';

const memory = () => memoryBackend({ maxEntries: 100_000 });
/** Layer errors the composition swallows are failures here: none is expected against healthy layers. */
const strict = {
  onError: (event: { error: Error }) => {
    throw event.error;
  },
};

/** Redis backends made for the suite, to clear their namespaces at the end. */
const redisBackends: Array<{ mode: 'single' | 'cluster'; namespace: string }> = [];
afterAll(async () => {
  for (const { mode, namespace } of redisBackends) {
    const backend = mode === 'single' ? singleBackend({ namespace }) : clusterBackend({ namespace });
    await backend.clear();
    await backend.close();
  }
});

function redis(mode: 'single' | 'cluster', namespace: string, lossless = false): RedisBackend {
  const settings = { namespace, ...(lossless ? { keyFormat: bitcode } : {}) };
  return mode === 'single' ? singleBackend(settings) : clusterBackend(settings);
}

runBackendConformance({
  name: 'composition memory+memory',
  runner: { describe, it },
  create: () => compose(memory(), memory(), strict),
  destroy: (backend) => backend.close(),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
  layers: 2,
});

for (const mode of ['single', 'cluster'] as const) {
  const namespace = uniqueNamespace(`composition-conformance-${mode}`);
  redisBackends.push({ mode, namespace });
  runBackendConformance({
    name: `composition memory+redis (${mode}, url-encoded keys)`,
    runner: { describe, it },
    create: () => compose(memory(), redis(mode, namespace), strict),
    destroy: (backend) => backend.close(),
    // Redis keeps expiry to the millisecond; url-encoded keys do not tell a null part value from "".
    capabilities: { expiryPrecisionMs: 1, losslessKeys: false },
    layers: 2,
  });
}

const nestedNamespace = uniqueNamespace('composition-conformance-nested');
redisBackends.push({ mode: 'single', namespace: nestedNamespace });
runBackendConformance<Composition<CacheBackend, Composition>>({
  name: 'composition memory+(memory+redis) (bitcode keys)',
  runner: { describe, it },
  create: () =>
    compose(
      memory(),
      compose(memory(), redis('single', nestedNamespace, true), { ...strict, label: 'inner' }),
      {
        ...strict,
        label: 'outer',
      },
    ),
  destroy: (backend) => backend.close(),
  capabilities: { expiryPrecisionMs: 1, losslessKeys: true },
  layers: 3,
});

const coherentNamespace = uniqueNamespace('composition-conformance-coherent');
redisBackends.push({ mode: 'single', namespace: coherentNamespace });
runBackendConformance<CoherentTiers>({
  name: 'coherentTiers memory+redis (single)',
  runner: { describe, it },
  create: async () => {
    const tiers = coherentTiers({
      l1: memory(),
      l2: redis('single', coherentNamespace, true),
      redis: { url: REDIS_URL },
      composition: strict,
      onError: (event) => {
        throw event.error;
      },
    });
    await tiers.whenTrusted(10_000);
    return tiers;
  },
  destroy: (backend) => backend.close(),
  capabilities: { expiryPrecisionMs: 1, losslessKeys: true },
  layers: 2,
});
