import { describe, expect, it } from 'vitest';
import { json } from '../src/index.js';
import { expectCacheError, hex } from './helpers.js';

function roundTrip(value: unknown): unknown {
  return json.deserialize(json.serialize(value));
}

describe('json', () => {
  it('writes compact JSON as UTF-8 bytes', () => {
    const bytes = json.serialize({ a: [1, 'é', null], b: { c: true } });
    expect(new TextDecoder().decode(bytes)).toBe('{"a":[1,"é",null],"b":{"c":true}}');
    expect(bytes).toEqual(new TextEncoder().encode('{"a":[1,"é",null],"b":{"c":true}}'));
  });

  it('round-trips JSON values exactly, lone surrogates included', () => {
    const value = {
      text: 'héllo ✓ 𝄞 한국어',
      lone: 'x\ud800y',
      numbers: [0, -1, 1.5, 2 ** 53 + 2, 5e-324, 1e300],
      nested: [[], {}, [[]], { a: [{ b: null }] }],
      flags: [true, false, null],
    };
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('reads __proto__ as an own key without touching Object.prototype', () => {
    const value = json.deserialize(new TextEncoder().encode('{"__proto__":{"polluted":true}}')) as object;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(roundTrip(value))).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe('json: what does not round-trip (documented in the README)', () => {
  it('Date becomes its ISO string', () => {
    expect(roundTrip({ at: new Date(1_700_000_000_123) })).toStrictEqual({ at: '2023-11-14T22:13:20.123Z' });
  });

  it('Map and Set become {}', () => {
    expect(roundTrip({ map: new Map([['a', 1]]), set: new Set([1]) })).toStrictEqual({ map: {}, set: {} });
  });

  it('undefined, functions and symbols are dropped from objects and become null in arrays', () => {
    expect(roundTrip({ a: undefined, f: () => 1, s: Symbol('s'), kept: 1 })).toStrictEqual({ kept: 1 });
    expect(roundTrip([undefined, () => 1, Symbol('s')])).toStrictEqual([null, null, null]);
  });

  it('NaN and ±Infinity become null, -0 becomes 0', () => {
    expect(roundTrip([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0])).toStrictEqual([
      null,
      null,
      null,
      0,
    ]);
  });

  it('Uint8Array becomes an object of indices, Buffer its toJSON form, typed arrays objects', () => {
    expect(roundTrip(new Uint8Array([7, 8]))).toStrictEqual({ 0: 7, 1: 8 });
    expect(roundTrip(Buffer.from([7, 8]))).toStrictEqual({ type: 'Buffer', data: [7, 8] });
    expect(roundTrip(new Float64Array([1.5]))).toStrictEqual({ 0: 1.5 });
  });

  it('class instances become plain objects of their own enumerable properties; toJSON is honoured', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${this.cents / 100} EUR`;
      }
    }
    class Point {
      constructor(readonly x: number) {}
    }
    expect(roundTrip({ price: new Money(1250), at: new Point(1) })).toStrictEqual({
      price: '12.5 EUR',
      at: { x: 1 },
    });
  });

  it('Error and RegExp become {}', () => {
    expect(roundTrip({ error: new Error('boom'), pattern: /a+/g })).toStrictEqual({ error: {}, pattern: {} });
  });

  it('holes in arrays become null', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(roundTrip([1, , 3])).toStrictEqual([1, null, 3]);
  });

  it('BigInt, cycles and a top-level undefined, function or symbol fail with SERIALIZE', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [10n, { n: 1n }, cyclic, undefined, () => 1, Symbol('s')]) {
      expectCacheError(() => json.serialize(value), 'SERIALIZE');
    }
  });
});

describe('json refuses what is not JSON text', () => {
  it('refuses CBOR (invalid UTF-8 from its first byte), gzip and zstd', () => {
    expect(expectCacheError(() => json.deserialize(hex('d9 d9 f7 01')), 'DESERIALIZE').message).toMatch(
      /UTF-8/,
    );
    expectCacheError(() => json.deserialize(hex('1f 8b 08 00 00 00 00 00 00 03 4b 04 00')), 'DESERIALIZE');
    expectCacheError(() => json.deserialize(hex('28 b5 2f fd 20 01 09 00 00 61')), 'DESERIALIZE');
  });

  it('refuses empty input, garbage and invalid UTF-8 inside a string', () => {
    for (const bytes of [new Uint8Array(0), hex('00'), hex('ff fe'), new TextEncoder().encode('{"a":}')]) {
      expectCacheError(() => json.deserialize(bytes), 'DESERIALIZE');
    }
    // "a<0xff>": JSON.parse would accept the U+FFFD a lenient decoder makes of it
    expectCacheError(() => json.deserialize(hex('22 61 ff 22')), 'DESERIALIZE');
  });

  it('refuses every truncation of an object, array or string', () => {
    for (const text of ['{"a":[1,2,{"b":"c"}],"d":null}', '["x",1,true]', '"a string"']) {
      const bytes = new TextEncoder().encode(text);
      for (let length = 0; length < bytes.length; length++) {
        expectCacheError(() => json.deserialize(bytes.subarray(0, length)), 'DESERIALIZE');
      }
    }
  });

  it('cannot see a truncated top-level number (documented): "1234" cut to "12" is valid JSON', () => {
    expect(json.deserialize(new TextEncoder().encode('12'))).toBe(12);
  });
});
