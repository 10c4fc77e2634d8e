import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { strictUtf8, writeUtf8 } from '../src/key-format/utf8.js';

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyUtf16 = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('\uD83D', '\uDE00', 'a', 'é', '€', '😀'), maxLength: 80 }),
);

describe('writeUtf8', () => {
  it('writes what TextEncoder writes, lone surrogates included (as U+FFFD), short and long strings alike', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(anyUtf16, fc.nat(8), (text, offset) => {
        const out = new Uint8Array(offset + text.length * 3);
        const end = writeUtf8(text, out, offset);
        expect(out.subarray(offset, end)).toEqual(encoder.encode(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('strictUtf8', () => {
  it('decodes what writeUtf8 wrote for well-formed text and keeps a leading BOM', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        const out = new Uint8Array(text.length * 3);
        expect(strictUtf8(out, 0, writeUtf8(text, out, 0))).toBe(text);
      }),
    );
    const bom = Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]);
    expect(strictUtf8(bom, 0, 4)).toBe('\uFEFFa');
  });

  it('throws on invalid UTF-8 instead of inserting U+FFFD', () => {
    expect(() => strictUtf8(Uint8Array.from([0x61, 0xff]), 0, 2)).toThrow(TypeError);
    expect(() => strictUtf8(Uint8Array.from([0xed, 0xa0, 0x80]), 0, 3)).toThrow(TypeError);
  });
});
