import * as zlib from 'node:zlib';
import { CacheError } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { initZstd, zstdSync } from '../src/index.js';
import { expectSameBytes, jsonDocument } from './helpers.js';

// Its own file, so the WebAssembly module is not loaded yet when it starts.
describe('zstdSync before the WebAssembly module is loaded', () => {
  it('throws NOT_READY until initZstd() resolves, then works', async () => {
    const compressor = zstdSync({ implementation: 'wasm', level: 5 });
    const document = jsonDocument(2000);
    for (const run of [() => compressor.compress(document), () => compressor.decompress(document, 1 << 20)]) {
      expect(run).toThrow(CacheError);
      try {
        run();
      } catch (error) {
        expect((error as CacheError).code).toBe('NOT_READY');
        expect((error as CacheError).message).toMatch(/initZstd/);
      }
    }
    await initZstd();
    await initZstd(); // idempotent
    expectSameBytes(compressor.decompress(compressor.compress(document), document.length), document);
  });

  it.skipIf(typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync !== 'function')(
    'needs no initialisation on node:zlib zstd',
    () => {
      const compressor = zstdSync({ implementation: 'node' });
      const document = jsonDocument(2000);
      expectSameBytes(compressor.decompress(compressor.compress(document), document.length), document);
    },
  );
});
