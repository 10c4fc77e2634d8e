import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cbor, json } from '../src/index.js';

/** Object keys as cbor supports them: any string without lone surrogates, except "__proto__". */
const key = fc.string({ unit: 'grapheme', maxLength: 8 }).filter((text) => text !== '__proto__');
const text = fc.string({ unit: 'grapheme', maxLength: 16 });

/** Every leaf type cbor promises to round-trip exactly. */
const leaf = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double().map((n) => (Object.is(n, -0) ? 0 : n)), // -0 becomes 0 (documented)
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  // to the millisecond within ±2^51 ms (about 71 000 years either side of 1970), see cbor.test.ts
  fc.date({ min: new Date(1 - 2 ** 51), max: new Date(2 ** 51 - 1), noInvalidDate: false }),
  fc.uint8Array({ maxLength: 32 }),
  fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
  fc.float32Array({ maxLength: 4 }),
  fc.int32Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 2 }),
);

const { value: cborValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('array'),
    tie('object'),
    tie('map'),
    tie('set'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  map: fc
    .array(fc.tuple(fc.oneof(text, fc.integer(), tie('value')), tie('value')), { maxLength: 4 })
    .map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 4 }).map((entries) => new Set(entries)),
}));

/** The value with every -0 turned into 0, which JSON writes as 0 (documented). */
function zeroed(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(zeroed);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, zeroed(entry)]));
  }
  return value;
}

describe('round trips of random values (property)', () => {
  it('cbor returns what it was given: same types, same values', () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        expect(cbor.deserialize(cbor.serialize(value))).toStrictEqual(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('json returns any JSON value it was given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(json.deserialize(json.serialize(value))).toStrictEqual(zeroed(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('json returns what JSON.stringify then JSON.parse make of any value it accepts', () => {
    fc.assert(
      fc.property(
        fc.anything({ withDate: true, withMap: true, withSet: true, withTypedArray: true }),
        (value) => {
          const expected = JSON.stringify(value);
          if (expected === undefined) return;
          expect(json.deserialize(json.serialize(value))).toStrictEqual(JSON.parse(expected));
        },
      ),
      { numRuns: 500 },
    );
  });
});
