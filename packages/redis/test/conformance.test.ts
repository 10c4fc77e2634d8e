import { runBackendConformance } from '@cache/backend-tests';
import { bitcode, type Compressor, type Format, type KeyFormat, passthrough, urlEncoded } from '@cache/core';
import { gzip, initZstd, zstdSync } from '@cache/compress';
import { cbor, json } from '@cache/formats';
import { afterAll, describe, it } from 'vitest';
import type { RedisBackend } from '../src/index.js';
import { clusterBackend, rawClient, singleBackend, uniqueNamespace } from './helpers.js';

await initZstd();

interface Combo {
  readonly name: string;
  readonly keyFormat: KeyFormat;
  readonly valueFormat: Format;
  readonly compressor: Compressor;
}

const combos: Combo[] = [
  { name: 'url-encoded, cbor, none', keyFormat: urlEncoded, valueFormat: cbor, compressor: passthrough },
  { name: 'bitcode, cbor, none', keyFormat: bitcode, valueFormat: cbor, compressor: passthrough },
  { name: 'url-encoded, json, gzip', keyFormat: urlEncoded, valueFormat: json, compressor: gzip() },
  { name: 'bitcode, cbor, zstd', keyFormat: bitcode, valueFormat: cbor, compressor: zstdSync() },
];

const inspector = await rawClient();
const namespaces: Array<{ mode: 'single' | 'cluster'; namespace: string }> = [];
afterAll(async () => {
  for (const { mode, namespace } of namespaces) {
    const backend = mode === 'single' ? singleBackend({ namespace }) : clusterBackend({ namespace });
    await backend.clear();
    await backend.close();
  }
  await inspector.close();
});

for (const mode of ['single', 'cluster'] as const) {
  for (const combo of mode === 'single' ? combos : [combos[0], combos[1], combos[3]]) {
    if (combo === undefined) continue;
    const namespace = uniqueNamespace(`conformance-${mode}`);
    namespaces.push({ mode, namespace });
    runBackendConformance<RedisBackend>({
      name: `redis ${mode} (${combo.name})`,
      runner: { describe, it },
      create: () => {
        const settings = {
          namespace,
          keyFormat: combo.keyFormat,
          valueFormat: combo.valueFormat,
          compressor: combo.compressor,
        };
        return mode === 'single' ? singleBackend(settings) : clusterBackend(settings);
      },
      destroy: (backend) => backend.close(),
      // RedisBackend is its own raw level (read/write/remove on bytes): the suite writes views into larger buffers.
      raw: (backend) => backend,
      capabilities: {
        expiryPrecisionMs: 1,
        losslessKeys: combo.keyFormat.lossless,
        binaryData: combo.valueFormat.id !== 'json',
      },
      ...(mode === 'single'
        ? {
            inspect: {
              exists: async (backend, key) => (await inspector.exists(backend.storeKey(key))) === 1,
            },
          }
        : {}),
    });
  }
}
