import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/index.js';
import {
  packInts,
  packLength,
  packLengths,
  packOneInt,
  unpackInts,
  unpackLength,
  unpackLengths,
} from '../src/key-format/bitcode-ints.js';
import {
  ByteReader,
  ByteWriter,
  packBits,
  packBytes,
  unpackBits,
  unpackBytes,
} from '../src/key-format/bitcode-pack.js';
import { fromHex, toHex } from './helpers/key-vectors.js';

function write(fill: (out: ByteWriter) => void): string {
  const out = new ByteWriter(new Uint8Array(1 << 16));
  fill(out);
  return toHex(out.bytes.subarray(0, out.pos));
}

/** Runs `read` over the bytes and checks it consumed all of them. */
function read<T>(hex: string, read: (input: ByteReader) => T): T {
  const input = new ByteReader(fromHex(hex));
  const value = read(input);
  expect(input.remaining).toBe(0);
  return value;
}

function rejects(hex: string, read: (input: ByteReader) => unknown, reason?: RegExp): void {
  let caught: unknown;
  try {
    read(new ByteReader(fromHex(hex)));
  } catch (error) {
    caught = error;
  }
  expect(CacheError.is(caught, 'KEY_DECODE')).toBe(true);
  if (reason !== undefined) expect((caught as Error).message).toMatch(reason);
}

describe('pack_bytes', () => {
  it.each([
    [[], ''],
    [[200], 'c8'],
    [[7, 255], '07ff'],
    [[0, 0, 0], '0a00'],
    [[1, 0, 1, 0, 1, 0, 1, 0, 1], '0a5501'],
    [[2, 2, 2, 2, 2, 2], '09' + '02' + '00'],
    [[200, 201, 202, 203, 204, 205, 206], '01c8' + '10325406'],
    [[6, 4, 4], '024604'],
    [[16, 0, 0], '00100000'],
    [[1, 2, 3, 4, 5, 6], '0301' + '4ecf'],
  ])('packs %j as %s', (values, hex) => {
    expect(write((out) => packBytes(out, values, values.length))).toBe(hex);
    expect([...read(hex, (input) => unpackBytes(input, values.length))]).toEqual(values);
  });

  it('round-trips any bytes and decodes only its own output', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (values) => {
        const hex = write((out) => packBytes(out, values, values.length));
        expect([...read(hex, (input) => unpackBytes(input, values.length))]).toEqual([...values]);
      }),
    );
  });

  it.each([
    ['a header above 10', '0b000000', 3, /invalid packing code 11/],
    ['a full group of 5 at or above 3^5 (factor 3)', '08f3', 5, /out of range/],
    ['a partial group of 3 at or above 3^3 (factor 3)', '081b', 3, /out of range/],
    ['a full group of 3 at or above 6^3 (factor 6)', '04d8', 3, /out of range/],
    ['a partial group beyond its digits (factor 16, one value)', '02' + '0010', 3, /out of range/],
    ['a minimum pushing a value past 255', '03ff' + '0a00', 6, /offset value out of range/],
    ['raw bytes where bits fit', '00000101', 3, /non-canonical/],
    ['an offset whose minimum is not the smallest value', '0301' + '2b2b', 6, /non-canonical/],
    ['a truncated body', '0a', 3, /truncated/],
    ['a missing minimum', '03', 6, /truncated/],
  ] as const)('rejects %s', (_what, hex, count, reason) => {
    rejects(hex, (input) => unpackBytes(input, count), reason);
  });

  it('rejects an offset with 5 values or fewer, where the encoder never uses one', () => {
    // [10..14] with offset 10: factor 6 after offset, but n = 5 requires plain factor 16.
    rejects('030a' + '4ecf', (input) => unpackBytes(input, 5));
    expect(write((out) => packBytes(out, [10, 11, 12, 13, 14], 5))).toBe('02badc0e');
  });
});

describe('variant bits', () => {
  it('packs 8 flags per byte, least significant first, without header even for 1 or 2 flags', () => {
    expect(write((out) => packBits(out, [true], 1))).toBe('01');
    expect(write((out) => packBits(out, [false, true], 2))).toBe('02');
    expect(
      write((out) => packBits(out, [true, true, false, true, false, false, false, false, true], 9)),
    ).toBe('0b01');
    expect(write((out) => packBits(out, [], 0))).toBe('');
    expect(read('0b01', (input) => unpackBits(input, 9))).toEqual([
      true,
      true,
      false,
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('rejects set bits past the last flag', () => {
    rejects('04', (input) => unpackBits(input, 2));
    rejects('ff03', (input) => unpackBits(input, 9));
  });
});

describe('pack_ints', () => {
  it.each([
    [[0], 4, '0400'],
    [[255], 4, '04ff'],
    [[256], 4, '020001'],
    [[65535], 4, '02ffff'],
    [[65536], 4, '0000000100'],
    [[0xffff_ffff], 4, '00ffffffff'],
    [[255], 8, '06ff'],
    [[300], 8, '042c01'],
    [[70000], 8, '0270110100'],
    [[300, 300, 300], 8, '04' + '2c012c012c01'],
    [[300, 70000], 8, '02' + '2c010000' + '70110100'],
    [[300, 301, 302, 303, 304, 305], 8, '05' + '2c01000000000000' + '044ecf'],
    [[2 ** 40], 8, '000000000000010000'],
  ] as const)('packs %j (%d bytes wide) as %s', (values, width, hex) => {
    expect(write((out) => packInts(out, values, values.length, width))).toBe(hex);
    expect(read(hex, (input) => unpackInts(input, values.length, width, 2 ** 53))).toEqual(values);
  });

  // bitcode decides "no packing" from the first 16 values only. The shortcut never changes the bytes (a sample
  // that wide makes the full rule pick the type's own width too, header 0), so these cases pin both branches.
  it('writes raw values when the first 16 span more than the next narrower width, and offsets otherwise', () => {
    // The first 16 span 2^40, wider than a u32: header 0 and every value as a raw u64.
    const wideSample = [0, 2 ** 40, ...Array.from({ length: 15 }, () => 5)];
    const hex = write((out) => packInts(out, wideSample, wideSample.length, 8));
    expect(hex.slice(0, 2)).toBe('00');
    expect(hex).toHaveLength(2 + 17 * 16);
    expect(read(hex, (input) => unpackInts(input, wideSample.length, 8, 2 ** 53))).toEqual(wideSample);
    // The first 16 are close together, the 17th is far: the sample passes, then max and range over all values
    // choose an offset of 2^40 with one byte per value.
    const narrowSample = [...Array.from({ length: 16 }, (_, i) => 2 ** 40 + i), 2 ** 40 + 100];
    const packed = write((out) => packInts(out, narrowSample, narrowSample.length, 8));
    expect(packed.slice(0, 2 + 16)).toBe('05' + '0000000000010000');
    expect(read(packed, (input) => unpackInts(input, narrowSample.length, 8, 2 ** 53))).toEqual(narrowSample);
  });

  it('round-trips random u32 and u64 columns', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff })), {
          maxLength: 40,
        }),
        fc.constantFrom(4 as const, 8 as const),
        (values, width) => {
          const hex = write((out) => packInts(out, values, values.length, width));
          expect(read(hex, (input) => unpackInts(input, values.length, width, 0xffff_ffff))).toEqual(values);
        },
      ),
    );
  });

  it.each([
    ['an invalid u32 header', '05ff', 4, 1, 0xffff_ffff],
    ['an invalid u64 header', '07ff', 8, 1, 0xffff_ffff],
    ['a u16 that fits in a byte', '020500', 4, 1, 0xffff_ffff],
    ['a raw u32 that fits in a u16', '0000010000', 4, 1, 0xffff_ffff],
    ['an offset with one value', '0305000000' + '00', 4, 1, 0xffff_ffff],
    ['a truncated u32', '00ffffff', 4, 1, 0xffff_ffff],
    ['a value above the limit', '042c01', 8, 1, 299],
    ['a minimum above the limit', '05' + '2c01000000000000' + '044ecf', 8, 6, 299],
    ['a u64 above 2^53', '00ffffffffffffffff', 8, 1, 2 ** 53],
    ['no values where some are expected', '', 4, 1, 0xffff_ffff],
  ] as const)('rejects %s', (_what, hex, width, count, limit) => {
    rejects(hex, (input) => unpackInts(input, count, width, limit));
  });
});

describe('length columns', () => {
  it('keeps lengths under 255 in the byte column and 255+ in full in a u64 column', () => {
    expect(write((out) => packLengths(out, [3, 254], 2))).toBe('03fe');
    expect(write((out) => packLengths(out, [3, 255], 2))).toBe('03ff' + '06ff');
    expect(write((out) => packLengths(out, [3, 300, 5], 3))).toBe('0003ff05' + '042c01');
    expect(Array.from(read('0003ff05042c01', (input) => unpackLengths(input, 3, 1000)))).toEqual([3, 300, 5]);
  });

  it('rejects a long length below 255 and lengths above the limit', () => {
    rejects('ff' + '0603', (input) => unpackLengths(input, 1, 1000));
    rejects('ff' + '042c01', (input) => unpackLengths(input, 1, 299));
    rejects('fe', (input) => unpackLengths(input, 1, 253));
  });
});

describe('single-value fast paths', () => {
  it('packOneInt writes what packInts writes for one value, and reads back', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 0xffff_ffff })),
        fc.constantFrom(4 as const, 8 as const),
        (value, width) => {
          const one = write((out) => packOneInt(out, value, width));
          expect(one).toBe(write((out) => packInts(out, [value], 1, width)));
          expect(read(one, (input) => unpackInts(input, 1, width, 0xffff_ffff))).toEqual([value]);
        },
      ),
    );
    expect(write((out) => packOneInt(out, 2 ** 40, 8))).toBe(write((out) => packInts(out, [2 ** 40], 1, 8)));
  });

  it('packLength and unpackLength agree with the column functions for one length', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff })),
        (length) => {
          const one = write((out) => packLength(out, length));
          expect(one).toBe(write((out) => packLengths(out, [length], 1)));
          expect(read(one, (input) => unpackLength(input, 0xffff_ffff))).toBe(length);
          expect(Array.from(read(one, (input) => unpackLengths(input, 1, 0xffff_ffff)))).toEqual([length]);
        },
      ),
    );
  });

  it('unpackLength is as strict as the column', () => {
    rejects('ff' + '0603', (input) => unpackLength(input, 1000));
    rejects('ff' + '042c01', (input) => unpackLength(input, 299));
    rejects('ff' + '0700', (input) => unpackLength(input, 1000));
    rejects('', (input) => unpackLength(input, 1000));
  });
});
