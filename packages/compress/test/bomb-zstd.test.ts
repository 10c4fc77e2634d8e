import * as zlib from 'node:zlib';
import { CacheError, DEFAULT_MAX_DECOMPRESSED_BYTES } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { zstd } from '../src/index.js';
import { GIB, MEMORY_BOUND, MIB, peakGrowthOfFailure } from './bomb.js';
import { concatBytes } from './helpers.js';
import { rleFrame } from './zstd-frames.js';

// node:zlib's zstd (Node 22.15+, 23.8+) is a separate decoder with its own limit handling: bomb it too where it exists
const nodeHasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
const implementations = nodeHasZstd ? (['wasm', 'node'] as const) : (['wasm'] as const);

describe.each(implementations)('zstd bombs on %s: 1 GiB of zeros', (implementation) => {
  it('are refused from their headers, before anything is decompressed', async () => {
    const compressor = await zstd({ implementation });
    const oneMebibyteFrame = compressor.compress(new Uint8Array(MIB));
    const bombs: Record<string, Uint8Array> = {
      // 8192 RLE blocks of 128 KiB and no declared size: 32 KiB that expand to 1 GiB
      'RLE blocks, size not declared': rleFrame(8192),
      'RLE blocks, 1 GiB declared': rleFrame(8192, 0, GIB),
      // what our own encoder writes for 1 MiB of zeros, 1024 times over
      '1024 frames of 1 MiB': concatBytes(...Array.from({ length: 1024 }, () => oneMebibyteFrame)),
    };
    for (const [name, bomb] of Object.entries(bombs)) {
      expect(bomb.length).toBeLessThan(MIB);
      for (const limit of [DEFAULT_MAX_DECOMPRESSED_BYTES, GIB - 1]) {
        const growth = peakGrowthOfFailure(() => compressor.decompress(bomb, limit));
        console.info(
          `zstd ${implementation} bomb "${name}" (${bomb.length} bytes), limit ${limit}: peak RSS +${Math.round(growth / MIB)} MiB`,
        );
        expect(growth).toBeLessThan(MEMORY_BOUND);
      }
    }
  });

  it('with a lying declared size fails with DECOMPRESS, writing no more than it declared', async () => {
    const compressor = await zstd({ implementation });
    const liar = rleFrame(8192, 0, 1000);
    const before = process.memoryUsage().rss;
    let thrown: unknown;
    try {
      compressor.decompress(liar, DEFAULT_MAX_DECOMPRESSED_BYTES);
    } catch (error) {
      thrown = error;
    }
    expect(CacheError.is(thrown, 'DECOMPRESS')).toBe(true);
    expect(process.resourceUsage().maxRSS * 1024 - before).toBeLessThan(MEMORY_BOUND);
  });
});
