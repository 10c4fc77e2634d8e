import { CacheError } from '@cache/core';
import { Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { CBOR_MARKER, cbor, MAX_BIGNUM_BYTES } from '../src/index.js';
import { expectCacheError } from './helpers.js';

function roundTrip(value: unknown): unknown {
  return cbor.deserialize(cbor.serialize(value));
}

describe('cbor round trips', () => {
  it('keeps JSON types, undefined and special numbers', () => {
    const value = {
      text: 'héllo wörld ✓ 𝄞 한국어 \ud7a3',
      empty: '',
      integers: [
        0,
        1,
        -1,
        23,
        24,
        255,
        256,
        65535,
        65536,
        2 ** 32,
        -(2 ** 32),
        2 ** 53 + 2,
        Number.MAX_SAFE_INTEGER,
      ],
      floats: [0.1, -1.5, 1e300, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      flags: [true, false, null, undefined],
      nested: { deeper: { deepest: [[], {}, [[]], { a: [{ b: null }] }] } },
      missing: undefined,
    };
    expect(roundTrip(value)).toStrictEqual(value);
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip('plain')).toBe('plain');
  });

  it('keeps Date, Map, Set and BigInt', () => {
    const value = {
      dates: [
        new Date(1_700_000_000_123),
        new Date(0),
        new Date(-1),
        new Date(8.64e15),
        new Date(Number.NaN),
      ],
      map: new Map<unknown, unknown>([
        [1, 'one'],
        ['two', 2],
        [{ composite: true }, [1, 2]],
        ['__proto__', 'a Map key is just a key'],
      ]),
      set: new Set([1, 'a', null, undefined]),
      bigints: [0n, 5n, -5n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 64n), 2n ** 64n, -(2n ** 200n), 2n ** 8000n],
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toStrictEqual(value);
    expect(back.map).toBeInstanceOf(Map);
    expect(back.set).toBeInstanceOf(Set);
    expect(typeof back.bigints[1]).toBe('bigint');
    expect(Number.isNaN(back.dates[4]!.getTime())).toBe(true);
  });

  it('keeps Uint8Array and Buffer as themselves, and typed arrays', () => {
    const value = {
      bytes: new Uint8Array([0, 1, 2, 255]),
      buffer: Buffer.from('buffer bytes'),
      emptyBytes: new Uint8Array(0),
      typed: [
        new Int8Array([-1, 1]),
        new Uint8ClampedArray([0, 255]),
        new Uint16Array([1, 65535]),
        new Int16Array([-2, 2]),
        new Uint32Array([4_000_000_000]),
        new Int32Array([-4]),
        new Float32Array([1.5, -0.25]),
        new Float64Array([Math.PI]),
        new BigInt64Array([-9n]),
        new BigUint64Array([2n ** 64n - 1n]),
      ],
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toStrictEqual(value);
    expect(back.bytes.constructor).toBe(Uint8Array);
    expect(Buffer.isBuffer(back.buffer)).toBe(true);
  });

  it('returns byte arrays that do not alias the stored bytes', () => {
    const stored = cbor.serialize({ bytes: new Uint8Array([1, 2, 3]) });
    const back = cbor.deserialize(stored) as { bytes: Uint8Array };
    back.bytes[0] = 99;
    expect((cbor.deserialize(stored) as { bytes: Uint8Array }).bytes[0]).toBe(1);
    stored.fill(0, 3);
    expect(back.bytes).toEqual(new Uint8Array([99, 2, 3]));
  });

  it('serializes into fresh arrays that own their memory and that later calls do not overwrite', () => {
    const first = cbor.serialize({ a: 'first' });
    const copy = first.slice();
    for (let i = 0; i < 1000; i++) cbor.serialize({ filler: 'x'.repeat(100), i });
    expect(first).toEqual(copy);
    expect(first.byteOffset).toBe(0);
    expect(first.byteLength).toBe(first.buffer.byteLength);
  });

  it('starts every value with the self-described CBOR tag d9 d9 f7', () => {
    for (const value of [1, 'x', null, {}, [], new Map()]) {
      expect([...cbor.serialize(value).subarray(0, 3)]).toEqual([...CBOR_MARKER]);
    }
  });

  it('is smaller than JSON on a typical document', () => {
    const document = {
      users: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `user ${i}`, active: true })),
    };
    expect(cbor.serialize(document).length).toBeLessThan(
      new TextEncoder().encode(JSON.stringify(document)).length,
    );
  });
});

describe('cbor values that change or fail (documented)', () => {
  it('turns -0 into 0, class instances into plain objects, holes into undefined', () => {
    expect(Object.is(roundTrip(-0), 0)).toBe(true);
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get length(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    const point = roundTrip(new Point(3, 4));
    expect(point).toStrictEqual({ x: 3, y: 4 });
    expect(Object.getPrototypeOf(point)).toBe(Object.prototype);
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${this.cents / 100} EUR`;
      }
    }
    expect(roundTrip({ price: new Money(1250) })).toStrictEqual({ price: { cents: 1250 } }); // toJSON not called
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(roundTrip([1, , 3])).toStrictEqual([1, undefined, 3]);
    expect(roundTrip(Object.assign(Object.create(null), { a: 1 }))).toStrictEqual({ a: 1 });
  });

  it('keeps dates to the millisecond within ±2^51 ms, about 71 000 years from 1970; beyond, within 1 ms', () => {
    for (const ms of [2 ** 51 - 1, 1 - 2 ** 51, 2 ** 51 - 1001, 1_700_000_000_123]) {
      expect((roundTrip(new Date(ms)) as Date).getTime()).toBe(ms);
    }
    const far = 8.64e15 - 1; // the last millisecond JavaScript dates have, in the year 275760
    expect(Math.abs((roundTrip(new Date(far)) as Date).getTime() - far)).toBeLessThanOrEqual(1);
  });

  it('refuses with SERIALIZE what it could not read back', () => {
    const refused: Record<string, unknown> = {
      function: { f: () => 1 },
      symbol: Symbol('s'),
      error: new TypeError('boom'),
      regexp: /a+/g,
      'cbor-x Tag': new Tag('x', 40_000),
      'own __proto__ key': JSON.parse('{"__proto__": {"polluted": true}}'),
      'bignum over 4 KiB': 2n ** BigInt(8 * MAX_BIGNUM_BYTES + 8),
      'lone high surrogate': 'abc\ud800',
      'lone low surrogate in a key': { '\udc00': 1 },
      'lone surrogate in a Map key': new Map([['\ud83d', 1]]),
      'lone surrogate in a Set': new Set(['ok', 'x\udfffy']),
    };
    for (const [name, value] of Object.entries(refused)) {
      const error = expectCacheError(() => cbor.serialize(value), 'SERIALIZE');
      expect(error.message, name).toMatch(/^cbor/);
    }
  });

  it('accepts surrogate pairs and binary data that merely looks like a surrogate', () => {
    const value = { emoji: '😀🎉', bytes: new Uint8Array([0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf]) };
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('refuses a cycle with SERIALIZE', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => cbor.serialize(cyclic)).toThrow(CacheError);
    expectCacheError(() => cbor.serialize(cyclic), 'SERIALIZE');
  });
});
