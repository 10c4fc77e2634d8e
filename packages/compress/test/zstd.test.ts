import * as zlib from 'node:zlib';
import { CacheError } from '@cache/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ZSTD_LEVEL, gzip, type ZstdCompressor, zstd, zstdSync } from '../src/index.js';
import {
  concatBytes,
  expectCacheError,
  expectSameBytes,
  jsonDocument,
  ownsBuffer,
  randomBytes,
} from './helpers.js';
import { rawFrame, rleFrame, skippableFrame } from './zstd-frames.js';

const document = jsonDocument(10_500);
const nodeHasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

describe('zstd options', () => {
  it('defaults to level 3', async () => {
    expect(DEFAULT_ZSTD_LEVEL).toBe(3);
    expect(await zstd()).toMatchObject({
      id: 'zstd',
      level: 3,
      implementation: nodeHasZstd ? 'node' : 'wasm',
    });
  });

  it('refuses level 0, levels outside -131072..22 and non-integers', async () => {
    for (const level of [0, 23, -131073, 1.5, Number.NaN]) {
      expectCacheError(() => zstdSync({ level }), 'INVALID_OPTIONS');
      await expect(zstd({ level })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    }
    expectCacheError(() => zstdSync({ implementation: 'native' as 'wasm' }), 'INVALID_OPTIONS');
  });

  it.skipIf(nodeHasZstd)('refuses implementation "node" where node:zlib has no zstd (Node < 22.15)', () => {
    expectCacheError(() => zstdSync({ implementation: 'node' }), 'INVALID_OPTIONS');
  });
});

describe('zstd with wasm', () => {
  let compressor: ZstdCompressor;
  beforeAll(async () => {
    compressor = await zstd({ implementation: 'wasm' });
  });

  it('round-trips at levels 1, 3, 19, 22 and the fast levels -1, -5', async () => {
    const sizes = new Map<number, number>();
    for (const level of [1, 3, 19, 22, -1, -5]) {
      const bytes = (await zstd({ implementation: 'wasm', level })).compress(document);
      expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
      expectSameBytes(compressor.decompress(bytes, document.length), document);
      sizes.set(level, bytes.length);
    }
    expect(sizes.get(19)!).toBeLessThan(sizes.get(1)!);
    expect(sizes.get(-5)!).toBeGreaterThan(sizes.get(1)!);
  });

  it('writes the content size into the frame header', () => {
    const bytes = compressor.compress(document);
    const descriptor = bytes[4]!;
    expect(descriptor >> 6).not.toBe(0);
  });

  it('round-trips empty input and returns arrays that own their memory', () => {
    const empty = compressor.compress(new Uint8Array(0));
    expectSameBytes(compressor.decompress(empty, 0), new Uint8Array(0));
    const bytes = compressor.compress(document);
    expect(ownsBuffer(bytes)).toBe(true);
    expect(ownsBuffer(compressor.decompress(bytes, document.length))).toBe(true);
  });

  it('reads frames without a declared size, several frames, and skippable frames', () => {
    const a = randomBytes(200_000, 3);
    expectSameBytes(compressor.decompress(rawFrame(a), a.length), a);
    expectSameBytes(compressor.decompress(rawFrame(new Uint8Array(0)), 0), new Uint8Array(0));
    const b = jsonDocument(4000);
    const joined = concatBytes(
      compressor.compress(b),
      skippableFrame(new Uint8Array([1, 2, 3])),
      rawFrame(a),
      compressor.compress(b),
    );
    expectSameBytes(compressor.decompress(joined, 2 * b.length + a.length), concatBytes(b, a, b));
    expectCacheError(() => compressor.decompress(joined, 2 * b.length + a.length - 1), 'DECOMPRESS_LIMIT');
    expectSameBytes(compressor.decompress(rleFrame(3, 7), 3 * 131072), new Uint8Array(3 * 131072).fill(7));
  });

  it('allows exactly maxOutputBytes and fails one byte below, declared size or not', () => {
    const bytes = compressor.compress(document);
    expectSameBytes(compressor.decompress(bytes, document.length), document);
    expectCacheError(() => compressor.decompress(bytes, document.length - 1), 'DECOMPRESS_LIMIT');
    const undeclared = rawFrame(document);
    expectSameBytes(compressor.decompress(undeclared, document.length), document);
    expectCacheError(() => compressor.decompress(undeclared, document.length - 1), 'DECOMPRESS_LIMIT');
  });

  it('fails with DECOMPRESS on every truncation', () => {
    const bytes = compressor.compress(jsonDocument(600));
    for (let length = 0; length < bytes.length; length++) {
      expectCacheError(() => compressor.decompress(bytes.subarray(0, length), 1 << 20), 'DECOMPRESS');
    }
  });

  it('fails with DECOMPRESS on corrupt blocks, a lying content size, reserved bits and dictionaries', () => {
    const bytes = compressor.compress(document);
    const corrupt = bytes.slice();
    corrupt[bytes.length >> 1]! ^= 0xff;
    expectCacheError(() => compressor.decompress(corrupt, 1 << 20), 'DECOMPRESS');
    // declares 1000 bytes but holds 4 x 128 KiB: refused without decompressing more than 1000 bytes
    expectCacheError(() => compressor.decompress(rleFrame(4, 0, 1000), 1 << 20), 'DECOMPRESS');
    // declares more than its blocks can hold
    expectCacheError(() => compressor.decompress(rleFrame(1, 0, 1 << 20), 1 << 21), 'DECOMPRESS');
    const reserved = bytes.slice();
    reserved[4]! |= 0x08;
    expectCacheError(() => compressor.decompress(reserved, 1 << 20), 'DECOMPRESS');
    const withDictionary = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x21, 0x07, 0x05, 0x01, 0x00, 0x00, 0x61]);
    const error = expectCacheError(() => compressor.decompress(withDictionary, 1 << 20), 'DECOMPRESS');
    expect(error.message).toMatch(/dictionary/);
    expectCacheError(
      () => compressor.decompress(concatBytes(bytes, new Uint8Array(4)), 1 << 20),
      'DECOMPRESS',
    );
  });

  it('refuses foreign bytes: gzip, raw JSON, CBOR, empty, a lone skippable frame', () => {
    for (const bytes of [
      gzip().compress(document),
      new TextEncoder().encode('{"json":true}'),
      new Uint8Array([0xd9, 0xd9, 0xf7, 0xa1, 0x61, 0x61, 0x01]),
      new Uint8Array(0),
      skippableFrame(new Uint8Array(4)),
    ]) {
      expectCacheError(() => compressor.decompress(bytes, 1 << 20), 'DECOMPRESS');
    }
  });

  it('round-trips random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        expectSameBytes(compressor.decompress(compressor.compress(bytes), bytes.length), bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('answers garbage with a typed error, never anything else (property)', () => {
    const magic = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (tail, withMagic) => {
        const bytes = withMagic ? new Uint8Array([...magic, ...tail]) : tail;
        try {
          compressor.decompress(bytes, 1 << 16);
        } catch (error) {
          expect(CacheError.is(error)).toBe(true);
          expect(['DECOMPRESS', 'DECOMPRESS_LIMIT']).toContain((error as CacheError).code);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe.skipIf(!nodeHasZstd)('zstd with node:zlib (Node 22.15+)', () => {
  it('round-trips, and the wasm build reads its frames and the reverse', async () => {
    const node = await zstd({ implementation: 'node' });
    const wasm = await zstd({ implementation: 'wasm' });
    expectSameBytes(wasm.decompress(node.compress(document), document.length), document);
    expectSameBytes(node.decompress(wasm.compress(document), document.length), document);
    expectCacheError(() => node.decompress(node.compress(document), document.length - 1), 'DECOMPRESS_LIMIT');
    expectCacheError(() => node.decompress(rawFrame(document), document.length - 1), 'DECOMPRESS_LIMIT');
  });
});
