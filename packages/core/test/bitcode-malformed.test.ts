import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitcode, CacheError, CacheKey } from '../src/index.js';
import { allVectors, fromHex, toHex } from './helpers/key-vectors.js';

/** The error `decode` throws, or undefined when it decodes. */
function decodeError(bytes: Uint8Array): unknown {
  try {
    bitcode.decode(bytes);
    return undefined;
  } catch (error) {
    return error;
  }
}

function expectKeyDecode(bytes: Uint8Array, reason?: RegExp): void {
  const error = decodeError(bytes);
  expect(CacheError.is(error, 'KEY_DECODE'), `decoding ${toHex(bytes).slice(0, 80)}`).toBe(true);
  if (reason !== undefined) expect((error as Error).message).toMatch(reason);
}

/**
 * What every input must satisfy: decoding throws `KEY_DECODE` and nothing else, or gives a key whose encoding
 * is exactly the input (decoding accepts only canonical bytes, so no two byte strings give one key).
 */
function expectStrict(bytes: Uint8Array): CacheKey | undefined {
  let key: CacheKey;
  try {
    key = bitcode.decode(bytes);
  } catch (error) {
    if (!CacheError.is(error, 'KEY_DECODE')) throw error;
    return undefined;
  }
  expect(toHex(bitcode.encode(key))).toBe(toHex(bytes));
  return key;
}

// Vectors small enough to cut at every offset and mutate at every byte quickly.
const smallVectors = allVectors.filter((v) => v.bitcodeHex.length <= 2 * 2000);

describe('truncated input', () => {
  // The decoder reads the input front to back and a full encoding ends exactly at its last byte, so a cut
  // encoding always runs out of input: no prefix decodes, not even to another key.
  it.each(smallVectors.map((v) => [v.name, v] as const))('%s: every prefix is rejected', (_name, vector) => {
    const bytes = fromHex(vector.bitcodeHex);
    for (let length = 0; length < bytes.length; length++) {
      expectKeyDecode(bytes.subarray(0, length));
    }
  });

  it('rejects the empty input', () => {
    expectKeyDecode(new Uint8Array(0), /truncated/);
  });
});

describe('trailing bytes', () => {
  it.each(smallVectors.map((v) => [v.name, v] as const))(
    '%s: any extra byte is rejected',
    (_name, vector) => {
      const bytes = fromHex(vector.bitcodeHex);
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      for (let extra = 0; extra < 256; extra++) {
        longer[bytes.length] = extra;
        expectKeyDecode(longer, /trailing/);
      }
    },
  );
});

describe('corrupted bytes', () => {
  it.each(smallVectors.map((v) => [v.name, v] as const))(
    '%s: every single-byte change is rejected or re-encodes exactly',
    (_name, vector) => {
      const bytes = fromHex(vector.bitcodeHex);
      const copy = bytes.slice();
      for (let at = 0; at < bytes.length; at++) {
        // In long vectors, skip most positions inside string bodies: their bytes are plain text.
        if (bytes.length > 300 && at >= 64 && at < bytes.length - 64 && at % 31 !== 0) continue;
        for (const value of [0x00, 0x01, 0x05, 0x0a, 0x0b, 0x7f, 0x80, 0xc3, 0xfe, 0xff, bytes[at]! ^ 0x01]) {
          copy[at] = value;
          expectStrict(copy);
        }
        copy[at] = bytes[at]!;
      }
    },
  );

  it.each([
    // from_str("test","value"): 01 | 04 74657374 | 01 | 05 76616c7565 | 0400 | 00
    [
      'a presence bit past the last part',
      '01' + '0474657374' + '03' + '0576616c7565' + '0400' + '00',
      /unused bits/,
    ],
    [
      'a version header that is no packing',
      '01' + '0474657374' + '01' + '0576616c7565' + '0500' + '00',
      /invalid/,
    ],
    [
      'a version stored wider than needed',
      '01' + '0474657374' + '01' + '0576616c7565' + '020000' + '00',
      /canonical/,
    ],
    [
      'a version with an offset',
      '01' + '0474657374' + '01' + '0576616c7565' + '0300000000' + '00' + '00',
      /canon/,
    ],
    // 3 name lengths [6,4,4] stored raw instead of factor 16.
    [
      'a length column stored raw where it packs',
      '03' + '00060404' + '6d6574686f6470617468666c6167' + '00' + '0400' + '00',
      /non-canonical/,
    ],
    [
      'a packing code above 10',
      '03' + '0b4604' + '6d6574686f6470617468666c6167' + '00' + '0400' + '00',
      /code 11/,
    ],
    // Name length 3 moved to the long-length column (255 marker, then u64 3).
    ['a short length in the long-length column', '01' + 'ff0603' + '616263' + '00' + '0400' + '00', />= 255/],
    ['a prefix length past the end', '00' + '0400' + '05' + '6162', /past the end/],
  ])('rejects %s', (_what, hex, reason) => {
    expectKeyDecode(fromHex(hex), reason);
  });
});

describe('invalid UTF-8', () => {
  it.each([
    ['a lone continuation byte', '80'],
    ['a 0xff byte', 'ff'],
    ['an overlong "/"', 'c0af'],
    ['an encoded surrogate', 'eda080'],
    ['a truncated 3-byte sequence', 'e282'],
    ['a code point above U+10FFFF', 'f4908080'],
  ])('rejects %s in a name, a value and the prefix', (_what, bad) => {
    const length = (bad.length / 2).toString(16).padStart(2, '0');
    expectKeyDecode(fromHex('01' + length + bad + '00' + '0400' + '00'), /name .* not valid UTF-8/);
    expectKeyDecode(fromHex('01' + '0161' + '01' + length + bad + '0400' + '00'), /value .* not valid UTF-8/);
    expectKeyDecode(fromHex('00' + '0400' + length + bad), /prefix .* not valid UTF-8/);
  });

  it('rejects a character split across two names', () => {
    // "é" is c3 a9: names of lengths 1 and 1 holding one byte each.
    expectKeyDecode(fromHex('02' + '0101' + 'c3a9' + '00' + '0400' + '00'), /not valid UTF-8/);
  });

  it('keeps a leading byte order mark instead of stripping it', () => {
    const key = bitcode.decode(fromHex('00' + '0400' + '03' + 'efbbbf'));
    expect(key.prefix).toBe('\uFEFF');
  });
});

describe('absurd lengths and counts', () => {
  it.each([
    ['a part count of 2^60', 'ff' + '00' + '0000000000000010', /out of range/],
    ['a part count of 2^64-1', 'ff' + '00' + 'ffffffffffffffff', /out of range/],
    ['a part count of 4e9', 'ff' + '02' + '00286bee', /out of range/],
    ['a part count of a million', 'ff' + '02' + '40420f00' + '0a', /out of range/],
    ['a name length of 2^32-1', '01' + 'ff' + '02' + 'ffffffff' + '61', /out of range/],
    ['a prefix length of 2^60', '00' + '0400' + 'ff' + '00' + '0000000000000010', /out of range/],
    ['a name length just past the input', '01' + '05' + '61626364', /past the end/],
  ])('rejects %s quickly', (_what, hex, reason) => {
    const started = performance.now();
    expectKeyDecode(fromHex(hex), reason);
    // A generous deadline: the point is that nothing is allocated or looped over from the claimed size.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects a raw length column longer than the rest of the input', () => {
    // 9999 parts (within the input's size), name lengths stored raw: 9999 bytes needed, 9995 left.
    const bytes = new Uint8Array(10_000);
    bytes.fill(0x61);
    bytes.set(fromHex('ff' + '04' + '0f27' + '00'));
    const started = performance.now();
    expectKeyDecode(bytes, /truncated/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects what is not a Uint8Array', () => {
    expectKeyDecode('0100' as unknown as Uint8Array, /Uint8Array/);
  });
});

describe('fuzzing', () => {
  it('random bytes never throw anything but KEY_DECODE, and what decodes re-encodes exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expectStrict(bytes);
      }),
      { numRuns: 20_000 },
    );
  });

  it('bytes biased to small values (deeper into the layout) satisfy the same', () => {
    const small = fc.integer({ min: 0, max: 12 });
    fc.assert(
      fc.property(
        fc.array(fc.oneof(small, fc.integer({ min: 0, max: 255 })), { maxLength: 40 }),
        (values) => {
          expectStrict(Uint8Array.from(values));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('mutated encodings of random keys satisfy the same', () => {
    const text = fc.string({ unit: 'binary', maxLength: 6 });
    const key = fc
      .record({
        prefix: text,
        version: fc.oneof(fc.constantFrom(0, 255, 256, 65535, 65536), fc.nat()),
        parts: fc.array(fc.tuple(text, fc.option(text, { nil: null })), { maxLength: 8 }),
      })
      .map(({ prefix, version, parts }) => bitcode.encode(CacheKey.from(parts, { prefix, version })));
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('set', 'insert', 'delete'),
      value: fc.integer({ min: 0, max: 255 }),
    });
    let decoded = 0;
    fc.assert(
      fc.property(key, fc.array(edit, { minLength: 1, maxLength: 3 }), (encoded, edits) => {
        let bytes = Array.from(encoded);
        for (const { at, kind, value } of edits) {
          const i = bytes.length === 0 ? 0 : at % bytes.length;
          if (kind === 'set') bytes[i] = value;
          else if (kind === 'insert') bytes.splice(i, 0, value);
          else bytes = bytes.filter((_, j) => j !== i);
        }
        if (expectStrict(Uint8Array.from(bytes)) !== undefined) decoded++;
      }),
      { numRuns: 10_000 },
    );
    // About 3% of edits still form a valid encoding (a changed character, a dropped empty part...): enough
    // that the re-encoding check above is really exercised.
    expect(decoded).toBeGreaterThan(50);
  });
});
