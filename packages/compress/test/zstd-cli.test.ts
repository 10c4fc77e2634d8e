import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '@cache/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ZstdCompressor, zstd } from '../src/index.js';
import { MEMORY_BOUND, MIB, peakGrowthOfFailure } from './bomb.js';
import { expectCacheError, expectSameBytes, jsonDocument, randomBytes, sampleDocument } from './helpers.js';

function hasZstdTool(): boolean {
  return spawnSync('zstd', ['--version']).status === 0;
}

/** Installs Debian's zstd package when it is missing and we may (root); returns whether the tool is there. */
function ensureZstdTool(): boolean {
  if (hasZstdTool()) return true;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    console.warn('zstd command-line tool missing and not root: skipping the interoperability tests');
    return false;
  }
  const install = spawnSync(
    'sh',
    ['-c', 'apt-get install -y zstd || (apt-get update && apt-get install -y zstd)'],
    {
      stdio: 'ignore',
      timeout: 120_000,
    },
  );
  if (install.status !== 0 || !hasZstdTool()) {
    console.warn('installing zstd with apt-get failed: skipping the interoperability tests');
    return false;
  }
  return true;
}

const available = ensureZstdTool();
// node:zlib's zstd (Node 22.15+, 23.8+) is a second decoder and encoder: hold it to the tool too where it exists
const nodeHasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
const implementations = nodeHasZstd ? (['wasm', 'node'] as const) : (['wasm'] as const);

describe.skipIf(!available).each(implementations)(
  'zstd on %s and the zstd command-line tool',
  (implementation) => {
    let compressor: ZstdCompressor;
    beforeAll(async () => {
      compressor = await zstd({ implementation });
    });

    const inputs: Record<string, Uint8Array> = {
      'a 10 KB JSON document': jsonDocument(10_500),
      'a 1 MB JSON document': jsonDocument(1_000_000),
      '300 KB of random bytes': randomBytes(300_000, 5),
      nothing: new Uint8Array(0),
    };

    it.each(Object.keys(inputs))('the tool decompresses what we compress: %s', async (name) => {
      const input = inputs[name]!;
      for (const level of [1, 3, 19, -3]) {
        const ours = (await zstd({ implementation, level })).compress(input);
        const theirs = execFileSync('zstd', ['-d', '-c', '-q'], { input: ours, maxBuffer: 1 << 26 });
        expectSameBytes(new Uint8Array(theirs), input);
      }
    });

    it.each(Object.keys(inputs))('we decompress what the tool compresses: %s', (name) => {
      const input = inputs[name]!;
      for (const args of [['-3'], ['-19'], ['--fast=3'], ['--no-check'], ['-3', '--no-content-size']]) {
        const theirs = new Uint8Array(
          execFileSync('zstd', ['-c', '-q', ...args], { input, maxBuffer: 1 << 26 }),
        );
        expectSameBytes(compressor.decompress(theirs, Math.max(input.length, 1)), input);
      }
    });

    it('shares trained dictionaries with the tool, both ways', async () => {
      const dictionaryFile = fileURLToPath(new URL('./fixtures/documents.zdict', import.meta.url));
      const withDictionary = await zstd({ dictionary: new Uint8Array(readFileSync(dictionaryFile)) });
      const input = sampleDocument(7000);
      const ours = withDictionary.compress(input);
      const theirs = execFileSync('zstd', ['-d', '-c', '-q', '-D', dictionaryFile], { input: ours });
      expectSameBytes(new Uint8Array(theirs), input);
      const back = execFileSync('zstd', ['-c', '-q', '-3', '-D', dictionaryFile], { input });
      expectSameBytes(withDictionary.decompress(new Uint8Array(back), input.length), input);
    });

    it('catches corruption the tool protects with its checksum', () => {
      const input = jsonDocument(10_500);
      const theirs = new Uint8Array(execFileSync('zstd', ['-c', '-q', '--check'], { input }));
      const corrupt = theirs.slice();
      corrupt[corrupt.length - 1]! ^= 1; // the content checksum
      expectCacheError(() => compressor.decompress(corrupt, input.length), 'DECOMPRESS');
    });

    // Streamed from a pipe, so no content size in the frame header. Zeros become RLE blocks, whose sizes are in
    // their headers: refused before decompressing. A repeated line becomes compressed blocks, which may each hold
    // up to 128 KiB: decompressed into at most the limit, then refused.
    it.each([
      ['zeros', 'head -c 1073741824 /dev/zero'],
      ['a repeated line', "yes 'a line of text, repeated until it makes a gigabyte' | head -c 1073741824"],
    ])(
      "refuses the tool's 1 GiB stream of %s, with bounded memory",
      (name, source) => {
        const bomb = new Uint8Array(
          execSync(`${source} | zstd -c -q -1`, { maxBuffer: 1 << 24, timeout: 60_000 }),
        );
        expect(bomb.length).toBeLessThan(MIB);
        expect((bomb[4]! & 0xc0) >> 6).toBe(0);
        const growth = peakGrowthOfFailure(() => compressor.decompress(bomb, DEFAULT_MAX_DECOMPRESSED_BYTES));
        console.info(
          `zstd ${implementation}: tool bomb of ${name} (${bomb.length} bytes): peak RSS +${Math.round(growth / MIB)} MiB`,
        );
        expect(growth).toBeLessThan(MEMORY_BOUND);
      },
      60_000,
    );
  },
);
