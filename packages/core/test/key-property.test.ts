import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitcode, CacheError, CacheKey, urlDecodeKey, urlEncodeKey, urlEncoded } from '../src/index.js';
import { plainKey, toHex } from './helpers/key-vectors.js';

/** A string of exactly `bytes` UTF-8 bytes, mixing 1-, 2-, 3- and 4-byte characters (10 bytes per round). */
function textOfBytes(bytes: number, seed: number): string {
  const chars = ['a', 'é', '€', '😀'];
  const round = [...chars.slice(seed % 4), ...chars.slice(0, seed % 4)].join('');
  return round.repeat(Math.floor(bytes / 10)) + 'a'.repeat(bytes % 10);
}

/** Byte lengths at the edges of every packing: factor limits, the 255 long-length marker, u16/u32 widths. */
const edgeLengths = [0, 1, 2, 3, 5, 6, 15, 16, 254, 255, 256, 257];
const hugeLengths = [65534, 65535, 65536, 65537];

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary-ascii', maxLength: 10 }),
  fc.tuple(fc.constantFrom(...edgeLengths), fc.nat(3)).map(([n, seed]) => textOfBytes(n, seed)),
);
const hugeText = fc
  .tuple(fc.constantFrom(...hugeLengths), fc.nat(3))
  .map(([n, seed]) => textOfBytes(n, seed));

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 255, 256, 65535, 65536, 0xff_ffff, 0x100_0000, 0xffff_ffff),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);

function keyOf(
  text: fc.Arbitrary<string>,
  parts: { minLength?: number; maxLength: number },
): fc.Arbitrary<CacheKey> {
  return fc
    .record({
      prefix: text,
      version: u32,
      parts: fc.array(fc.tuple(text, fc.option(text, { nil: null })), parts),
    })
    .map(({ prefix, version, parts }) => CacheKey.from(parts, { prefix, version }));
}

const keys = keyOf(anyText, { maxLength: 12 });
const manyPartKeys = keyOf(fc.string({ unit: 'binary', maxLength: 3 }), { minLength: 250, maxLength: 400 });
const hugeKeys = keyOf(fc.oneof(anyText, hugeText), { maxLength: 3 });

function expectBitcodeRoundTrip(key: CacheKey): void {
  const bytes = bitcode.encode(key);
  const decoded = bitcode.decode(bytes);
  expect(plainKey(decoded)).toEqual(plainKey(key));
  expect(decoded.equals(key)).toBe(true);
  expect(toHex(bitcode.encode(decoded))).toBe(toHex(bytes));
}

describe('bitcode round trips', () => {
  it('decode(encode(key)) is the key, for any key', () => {
    fc.assert(fc.property(keys, expectBitcodeRoundTrip), { numRuns: 2000 });
  });

  it('holds for hundreds of parts (count and columns past 255)', () => {
    fc.assert(fc.property(manyPartKeys, expectBitcodeRoundTrip), { numRuns: 100 });
  });

  it('holds for strings of about 64 KiB (u16/u32 long lengths)', () => {
    fc.assert(fc.property(hugeKeys, expectBitcodeRoundTrip), { numRuns: 40 });
  });

  it('tells every two different keys apart (null and "" included)', () => {
    fc.assert(
      fc.property(keys, keys, (a, b) => {
        expect(toHex(bitcode.encode(a)) === toHex(bitcode.encode(b))).toBe(a.equals(b));
      }),
      { numRuns: 2000 },
    );
    expect(toHex(bitcode.encode(CacheKey.of('a', '')))).not.toBe(toHex(bitcode.encode(CacheKey.of('a'))));
  });

  it('encodes equal keys to equal bytes, and returns a fresh array each time', () => {
    const a = CacheKey.from({ method: 'GET', path: '/x' }, { prefix: 'p', version: 3 });
    const b = CacheKey.from([['method', 'GET'], { name: 'path', value: '/x' }], { prefix: 'p', version: 3 });
    const first = bitcode.encode(a);
    const second = bitcode.encode(b);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(second.buffer).not.toBe(first.buffer);
  });

  it('is declared lossless', () => {
    expect(bitcode.lossless).toBe(true);
    expect(bitcode.id).toBe('bitcode');
  });
});

/** What url-encoded keeps of a key: empty values become null. */
function urlImage(key: CacheKey): ReturnType<typeof plainKey> {
  const plain = plainKey(key);
  return { ...plain, parts: plain.parts.map(([n, v]) => [n, v === '' ? null : v]) };
}

const reserved = (name: string): boolean => name === '_prefix' || name === '_version';
const urlKeys = keys.filter((key) => !key.parts.some((p) => reserved(p.name)));

describe('url-encoded round trips', () => {
  it('decode(encode(key)) is the key with "" values read back as null', () => {
    fc.assert(
      fc.property(urlKeys, (key) => {
        expect(plainKey(urlEncoded.decode(urlEncoded.encode(key)))).toEqual(urlImage(key));
        expect(plainKey(urlDecodeKey(urlEncodeKey(key)))).toEqual(urlImage(key));
      }),
      { numRuns: 2000 },
    );
  });

  it('holds for hundreds of parts and 64 KiB strings', () => {
    const check = (key: CacheKey) => {
      expect(plainKey(urlEncoded.decode(urlEncoded.encode(key)))).toEqual(urlImage(key));
    };
    fc.assert(fc.property(manyPartKeys, check), { numRuns: 50 });
    fc.assert(fc.property(hugeKeys, check), { numRuns: 20 });
  });

  it('writes what URLSearchParams writes for the same pairs', () => {
    fc.assert(
      fc.property(keys, (key) => {
        const pairs: [string, string][] = [
          ['_prefix', key.prefix],
          ['_version', String(key.version)],
          ...key.parts.map((p): [string, string] => [p.name, p.value ?? '']),
        ];
        expect(urlEncodeKey(key)).toBe(new URLSearchParams(pairs).toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('re-encodes its own decoding to the same bytes', () => {
    fc.assert(
      fc.property(keys, (key) => {
        const bytes = urlEncoded.encode(key);
        expect(toHex(urlEncoded.encode(urlEncoded.decode(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('url-encoded lossiness (as in hitbox)', () => {
  it('is declared lossy', () => {
    expect(urlEncoded.lossless).toBe(false);
    expect(urlEncoded.id).toBe('url-encoded');
  });

  it('writes a null value and "" alike, and reads both back as null', () => {
    const empty = CacheKey.of('flag', '');
    const none = CacheKey.of('flag');
    expect(urlEncodeKey(empty)).toBe('_prefix=&_version=0&flag=');
    expect(urlEncodeKey(none)).toBe(urlEncodeKey(empty));
    expect(urlDecodeKey(urlEncodeKey(empty)).parts).toEqual([{ name: 'flag', value: null }]);
  });

  it('lets a part named _prefix or _version overwrite the header pairs', () => {
    const key = CacheKey.from([
      ['_prefix', 'evil'],
      ['_version', '7'],
      ['id', '1'],
    ]);
    const decoded = urlDecodeKey(urlEncodeKey(key));
    expect(plainKey(decoded)).toEqual({ prefix: 'evil', version: 7, parts: [['id', '1']] });
  });

  it('fails to decode a key whose _version part is not a u32', () => {
    const bytes = urlEncoded.encode(CacheKey.from([['_version', 'abc']]));
    let caught: unknown;
    try {
      urlEncoded.decode(bytes);
    } catch (error) {
      caught = error;
    }
    expect(CacheError.is(caught, 'KEY_DECODE')).toBe(true);
  });
});

describe('urlDecodeKey with raw non-ASCII text beside escapes', () => {
  it('keeps astral characters whole', () => {
    const key = urlDecodeKey('_prefix=&_version=0&q=%41😀é');
    expect(key.parts[0]?.value).toBe('A😀é');
  });
});
