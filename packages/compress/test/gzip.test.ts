import { execFileSync, spawnSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CacheError } from '@cache/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GZIP_LEVEL, gzip } from '../src/index.js';
import {
  concatBytes,
  expectCacheError,
  expectSameBytes,
  jsonDocument,
  ownsBuffer,
  randomBytes,
} from './helpers.js';

const implementations = ['node', 'fflate'] as const;
const document = jsonDocument(10_500);
const hasGzipTool = spawnSync('gzip', ['--version']).status === 0;

describe('gzip options', () => {
  it('defaults to level 6 and, on Node, to node:zlib', () => {
    const compressor = gzip();
    expect(DEFAULT_GZIP_LEVEL).toBe(6);
    expect(compressor).toMatchObject({ id: 'gzip', level: 6, implementation: 'node' });
    expect(gzip({ implementation: 'fflate' }).implementation).toBe('fflate');
  });

  it('refuses levels outside 0-9 and unknown implementations', () => {
    for (const level of [-1, 10, 1.5, Number.NaN]) expectCacheError(() => gzip({ level }), 'INVALID_OPTIONS');
    expectCacheError(() => gzip({ implementation: 'brotli' as 'node' }), 'INVALID_OPTIONS');
  });

  it('refuses an invalid maxOutputBytes', () => {
    const bytes = gzip().compress(document);
    for (const max of [-1, 1.5, Number.NaN])
      expectCacheError(() => gzip().decompress(bytes, max), 'INVALID_OPTIONS');
  });
});

describe.each(implementations)('gzip with %s', (implementation) => {
  const compressor = gzip({ implementation });
  const other = gzip({ implementation: implementation === 'node' ? 'fflate' : 'node' });

  it('round-trips at every level 0-9, and the other implementation reads the bytes', () => {
    for (let level = 0; level <= 9; level++) {
      const bytes = gzip({ implementation, level }).compress(document);
      expect(bytes[0]).toBe(0x1f);
      expect(bytes[1]).toBe(0x8b);
      if (level === 0) expect(bytes.length).toBeGreaterThan(document.length);
      else expect(bytes.length).toBeLessThan(document.length / 2);
      expectSameBytes(compressor.decompress(bytes, document.length), document);
      expectSameBytes(other.decompress(bytes, document.length), document);
    }
  });

  it('writes standard gzip that node:zlib reads, and reads what node:zlib writes', () => {
    const bytes = compressor.compress(document);
    expect(new Uint8Array(gunzipSync(bytes))).toEqual(document);
    expectSameBytes(compressor.decompress(gzipSync(document, { level: 9 }), 1 << 20), document);
  });

  it.skipIf(!hasGzipTool)('interoperates with the gzip command-line tool', () => {
    const ours = compressor.compress(document);
    expect(new Uint8Array(execFileSync('gzip', ['-dc'], { input: ours }))).toEqual(document);
    const theirs = execFileSync('gzip', ['-c', '-9'], { input: document });
    expectSameBytes(compressor.decompress(new Uint8Array(theirs), 1 << 20), document);
  });

  it('round-trips empty input and returns arrays that own their memory', () => {
    const empty = compressor.compress(new Uint8Array(0));
    expectSameBytes(compressor.decompress(empty, 0), new Uint8Array(0));
    const small = compressor.compress(new TextEncoder().encode('{"a":1}'));
    expect(ownsBuffer(small)).toBe(true);
    expect(ownsBuffer(compressor.decompress(small, 100))).toBe(true);
  });

  it('reads multi-member gzip (concatenated files)', () => {
    const a = jsonDocument(3000);
    const b = jsonDocument(5000);
    const joined = concatBytes(compressor.compress(a), other.compress(b));
    expectSameBytes(compressor.decompress(joined, 8000), concatBytes(a, b));
    expectCacheError(() => compressor.decompress(joined, 7999), 'DECOMPRESS_LIMIT');
  });

  it('reads identical concatenated members in full, with a tight or a roomy limit', () => {
    const a = jsonDocument(3000);
    const packed = compressor.compress(a);
    const twice = concatBytes(packed, packed);
    for (const max of [2 * a.length, 1 << 26])
      expectSameBytes(compressor.decompress(twice, max), concatBytes(a, a));
  });

  it('refuses a trailer whose stated length or CRC is off, with a tight or a roomy limit', () => {
    const packed = compressor.compress(document);
    for (const [at, delta] of [
      [packed.length - 4, 1],
      [packed.length - 4, -1],
      [packed.length - 8, 1],
    ] as const) {
      const wrong = packed.slice();
      wrong[at] = (wrong[at]! + delta) & 0xff;
      for (const max of [document.length + 1, 1 << 26])
        expectCacheError(() => compressor.decompress(wrong, max), 'DECOMPRESS');
    }
  });

  it('allows exactly maxOutputBytes and fails one byte below', () => {
    const bytes = compressor.compress(document);
    expectSameBytes(compressor.decompress(bytes, document.length), document);
    expectCacheError(() => compressor.decompress(bytes, document.length - 1), 'DECOMPRESS_LIMIT');
    expectCacheError(() => compressor.decompress(bytes, 0), 'DECOMPRESS_LIMIT');
  });

  it('fails with DECOMPRESS on every truncation', () => {
    const bytes = compressor.compress(jsonDocument(600));
    for (let length = 0; length < bytes.length; length++) {
      expectCacheError(() => compressor.decompress(bytes.subarray(0, length), 1 << 20), 'DECOMPRESS');
    }
  });

  it('fails with DECOMPRESS on corrupt data, CRC and length', () => {
    const bytes = compressor.compress(document);
    for (const at of [12, bytes.length >> 1, bytes.length - 12, bytes.length - 8, bytes.length - 2]) {
      const corrupt = bytes.slice();
      corrupt[at]! ^= 0x10;
      expectCacheError(() => compressor.decompress(corrupt, 1 << 20), 'DECOMPRESS');
    }
    const trailing = concatBytes(bytes, new Uint8Array([0, 1]));
    expectCacheError(() => compressor.decompress(trailing, 1 << 20), 'DECOMPRESS');
  });

  it('refuses foreign bytes: raw JSON, CBOR, zstd, empty', () => {
    const foreign = [
      new TextEncoder().encode('{"json":true,"padding":"xxxxxxxxxxxxxxxx"}'),
      new Uint8Array([0xd9, 0xd9, 0xf7, 0xa1, 0x61, 0x61, 0x01, ...new Uint8Array(20)]),
      new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00, ...new Uint8Array(20)]),
      new Uint8Array(0),
    ];
    for (const bytes of foreign) {
      const error = expectCacheError(() => compressor.decompress(bytes, 1 << 20), 'DECOMPRESS');
      expect(error.message).toMatch(/gzip/);
    }
  });

  it('round-trips random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 0, max: 9 }), (bytes, level) => {
        const packed = gzip({ implementation, level }).compress(bytes);
        expectSameBytes(compressor.decompress(packed, bytes.length), bytes);
        expectSameBytes(other.decompress(packed, bytes.length), bytes);
      }),
      { numRuns: 150 },
    );
  });

  it('answers garbage with a typed error, never anything else (property)', () => {
    const header = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (tail, withHeader) => {
        const bytes = withHeader ? concatBytes(header, tail) : tail;
        try {
          compressor.decompress(bytes, 1 << 16);
        } catch (error) {
          expect(CacheError.is(error)).toBe(true);
          expect(['DECOMPRESS', 'DECOMPRESS_LIMIT']).toContain((error as CacheError).code);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('feeds large inputs in steps and still verifies them', () => {
    const big = randomBytes(300_000, 7);
    const packed = compressor.compress(big);
    // 300 KB of incompressible data exceeds limit/1032, so fflate takes the stepwise path
    expectSameBytes(compressor.decompress(packed, 300_000), big);
    const corrupt = packed.slice();
    corrupt[packed.length - 7]! ^= 1;
    expectCacheError(() => compressor.decompress(corrupt, 300_000), 'DECOMPRESS');
  });
});
