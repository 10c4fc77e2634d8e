import { gzip, zstd } from '@cache/compress';
import { runBackendConformance } from '@cache/backend-tests';
import {
  CacheError,
  CacheKey,
  CacheValue,
  type Compressor,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type Format,
  passthrough,
  toCacheBackend,
} from '@cache/core';
import { describe, expect, it } from 'vitest';
import { cbor, json } from '../src/index.js';
import { MapBytesBackend, type StoredEntry } from './bytes-backend.js';

const formats: readonly Format[] = [json, cbor];
const compressors: Record<string, () => Compressor | Promise<Compressor>> = {
  none: () => passthrough,
  gzip: () => gzip(),
  'gzip (fflate)': () => gzip({ implementation: 'fflate' }),
  zstd: () => zstd(),
};

for (const format of formats) {
  for (const [name, compressor] of Object.entries(compressors)) {
    runBackendConformance({
      name: `bytes backend with ${format.id} + ${name}`,
      runner: { describe, it },
      create: async () => toCacheBackend(new MapBytesBackend(format, await compressor())),
      // JSON cannot carry Uint8Array data: the suite then uses strings for its binary and size cases
      capabilities: { expiryPrecisionMs: 0, losslessKeys: true, binaryData: format.id === 'cbor' },
    });
  }
}

describe('the typed pipeline', () => {
  it('stores compress(serialize(data)) with expire and stale beside the bytes', async () => {
    const raw = new MapBytesBackend(cbor, await zstd());
    const backend = toCacheBackend(raw);
    const key = CacheKey.of('user', '42', { prefix: 'pipeline' });
    const data = { name: 'Ada', since: new Date(1_700_000_000_000), roles: new Set(['admin']) };
    const value = CacheValue.fromTtl(data, { ttlMs: 30_000, graceMs: 30_000 });
    await backend.set(key, value);
    const stored = raw.store.get(raw.storeKey(key))!;
    expect(stored.expire).toBe(value.expire);
    expect(stored.stale).toBe(value.stale);
    expect([...stored.data.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    const bytes = raw.compressor.decompress(stored.data, DEFAULT_MAX_DECOMPRESSED_BYTES);
    expect(cbor.deserialize(bytes)).toStrictEqual(data);
    expect((await backend.get(key))?.data).toStrictEqual(data);
  });
});

/** Values whose bytes are valid in more than one format, and ordinary ones. */
const values: Record<string, unknown> = {
  'the number 1 (JSON "1" is also the CBOR integer -18)': 1,
  'an empty array': [],
  'an empty object': {},
  null: null,
  'a string': 'x',
  'a document': { id: 7, name: 'Grace', tags: ['a', 'b'], nested: { ok: true } },
};

interface Codec {
  readonly name: string;
  readonly format: Format;
  readonly compressor: Compressor;
}

async function codecs(): Promise<Codec[]> {
  const all: Codec[] = [];
  for (const format of formats) {
    for (const compressor of [passthrough, gzip(), await zstd()]) {
      all.push({ name: `${format.id}+${compressor.id}`, format, compressor });
    }
  }
  return all;
}

describe('a reader configured differently from the writer', () => {
  it('gets a typed error for every other format x compressor, never data', async () => {
    const all = await codecs();
    let checked = 0;
    for (const writer of all) {
      for (const reader of all) {
        if (writer === reader) continue;
        for (const [what, data] of Object.entries(values)) {
          const store = new Map<string, StoredEntry>();
          const key = CacheKey.of('mismatch', what);
          await toCacheBackend(new MapBytesBackend(writer.format, writer.compressor, store, 'writer')).set(
            key,
            new CacheValue(data),
          );
          const backend = toCacheBackend(
            new MapBytesBackend(reader.format, reader.compressor, store, 'reader'),
          );
          const error = await Promise.resolve()
            .then(() => backend.get(key))
            .then(
              (value) =>
                new Error(`${writer.name} read by ${reader.name} (${what}) returned ${String(value?.data)}`),
              (thrown: unknown) => thrown,
            );
          // a compressor sees foreign bytes first (magic numbers); with none, the format does (CBOR's d9 d9 f7,
          // JSON's UTF-8 and syntax)
          const expected =
            reader.compressor.id !== 'none' && reader.compressor.id !== writer.compressor.id
              ? 'DECOMPRESS'
              : 'DESERIALIZE';
          expect(CacheError.is(error), String(error)).toBe(true);
          expect((error as CacheError).code, `${writer.name} read by ${reader.name}: ${what}`).toBe(expected);
          expect((error as CacheError).backend).toBe('reader');
          expect((error as CacheError).key).toBe(key.canonical);
          // the typed level reports the entry; it does not delete it or turn it into a miss
          expect(store.size).toBe(1);
          checked++;
        }
      }
    }
    expect(checked).toBe(6 * 5 * Object.keys(values).length);
  });

  it('reads the same entry fine once configured like the writer', async () => {
    for (const codec of await codecs()) {
      const store = new Map<string, StoredEntry>();
      const key = CacheKey.of('same', codec.name);
      const data = values['a document'];
      await toCacheBackend(new MapBytesBackend(codec.format, codec.compressor, store)).set(
        key,
        new CacheValue(data),
      );
      const again = toCacheBackend(new MapBytesBackend(codec.format, codec.compressor, store));
      expect((await again.get(key))?.data).toStrictEqual(data);
    }
  });
});
