import { createGzip } from 'node:zlib';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '@cache/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GzipImplementation, gzip } from '../src/index.js';
import { MEMORY_BOUND, MIB, peakGrowthOfFailure } from './bomb.js';
import { concatBytes } from './helpers.js';

/** 1 GiB of zeros gzipped at level 9, streamed one mebibyte at a time: about 1 MB, never 1 GiB in memory. */
async function gzipBomb(): Promise<Uint8Array> {
  const gzipStream = createGzip({ level: 9 });
  const parts: Uint8Array[] = [];
  gzipStream.on('data', (part: Uint8Array) => parts.push(part));
  const done = new Promise((resolve, reject) => {
    gzipStream.on('end', resolve);
    gzipStream.on('error', reject);
  });
  const zeros = new Uint8Array(MIB);
  for (let i = 0; i < 1024; i++) {
    if (!gzipStream.write(zeros)) await new Promise((resolve) => gzipStream.once('drain', resolve));
  }
  gzipStream.end();
  await done;
  return concatBytes(...parts);
}

describe('gzip bomb: 1 GiB of zeros', () => {
  let bomb: Uint8Array;
  beforeAll(async () => {
    bomb = await gzipBomb();
  }, 60_000);

  it.each(['node', 'fflate'] as GzipImplementation[])(
    'is refused by %s with DECOMPRESS_LIMIT, with bounded memory',
    (implementation) => {
      expect(bomb.length).toBeLessThan(2 * MIB);
      const compressor = gzip({ implementation });
      const growth = peakGrowthOfFailure(() => compressor.decompress(bomb, DEFAULT_MAX_DECOMPRESSED_BYTES));
      console.info(
        `gzip ${implementation} bomb (${bomb.length} bytes): peak RSS +${Math.round(growth / MIB)} MiB`,
      );
      expect(growth).toBeLessThan(MEMORY_BOUND);
    },
    60_000,
  );
});
