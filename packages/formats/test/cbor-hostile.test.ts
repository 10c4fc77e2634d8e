import { CacheError } from '@cache/core';
import { addExtension, decode as cborxDecode, Encoder } from 'cbor-x';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cbor } from '../src/index.js';
import { expectCacheError, hex } from './helpers.js';

const MARKER = 'd9 d9 f7';

/** Our marker followed by what another cbor-x configuration writes. */
function tagged(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 3);
  out.set(hex(MARKER));
  out.set(bytes, 3);
  return out;
}

function refuses(bytes: Uint8Array, reason?: RegExp): void {
  const error = expectCacheError(() => cbor.deserialize(bytes), 'DESERIALIZE');
  if (reason !== undefined) expect(error.message).toMatch(reason);
}

describe('cbor refuses foreign bytes', () => {
  it('refuses JSON, even JSON that is also valid CBOR', () => {
    // "1" is the CBOR integer -18, "[]" and "{}" are valid CBOR too: only the missing marker tells them apart
    for (const text of ['1', '[]', '{}', '"x"', 'null', 'true', '{"a":1}', '[1,2,3]']) {
      refuses(new TextEncoder().encode(text), /d9 d9 f7 is missing/);
    }
  });

  it('refuses gzip, zstd, empty input, the marker alone, untagged CBOR', () => {
    refuses(hex('1f 8b 08 00 00 00 00 00 00 03 4b 04 00'));
    refuses(hex('28 b5 2f fd 20 01 09 00 00 61'));
    refuses(new Uint8Array(0));
    refuses(hex(MARKER));
    refuses(hex('a1 61 61 01'));
  });

  it('refuses random bytes without the marker (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        fc.pre(!(bytes[0] === 0xd9 && bytes[1] === 0xd9 && bytes[2] === 0xf7));
        refuses(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('answers random bytes after the marker with a value or DESERIALIZE, nothing else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (tail) => {
        try {
          cbor.deserialize(tagged(tail));
        } catch (error) {
          expect(CacheError.is(error, 'DESERIALIZE'), String(error)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cbor refuses truncated and malformed bytes', () => {
  const rich = cbor.serialize({
    text: 'some text',
    list: [1, -2, 3.5, null, undefined, true],
    when: new Date(1_700_000_000_000),
    map: new Map([[1, new Set(['a'])]]),
    big: 2n ** 100n,
    bytes: new Uint8Array([1, 2, 3]),
  });

  it('refuses every truncation and trailing bytes', () => {
    for (let length = 0; length < rich.length; length++) refuses(rich.subarray(0, length));
    const longer = new Uint8Array(rich.length + 1);
    longer.set(rich);
    refuses(longer, /trailing/);
  });

  it('refuses declared lengths beyond the input without allocating them', () => {
    refuses(hex(`${MARKER} 9b 00 00 01 00 00 00 00 00 01`), /truncated/); // array of 2^40 items
    refuses(hex(`${MARKER} ba ff ff ff ff 01`), /truncated/); // map of 2^32-1 pairs
    refuses(hex(`${MARKER} 5a ff ff ff ff 00`), /truncated/); // byte string of 4 GiB
    refuses(hex(`${MARKER} 7b ff ff ff ff ff ff ff ff 00`), /truncated/); // text of 2^64-1 bytes
  });

  it('refuses structures this format never writes', () => {
    refuses(hex(`${MARKER} a1 01 02`), /key is not a text string/);
    refuses(hex(`${MARKER} 7f 61 61 ff`), /indefinite length/);
    refuses(hex(`${MARKER} f8 20`), /simple value/);
    refuses(hex(`${MARKER} f0`), /simple value/);
    refuses(hex(`${MARKER} ff`), /unexpected break/);
    refuses(hex(`${MARKER} 1c`), /reserved/);
    refuses(hex(`${MARKER} d9 d9 f7 01`), /unsupported tag 55799/);
    refuses(hex(`${MARKER} c1 61 61`), /tag 1 without a number/);
    refuses(hex(`${MARKER} d8 45 43 00 01 02`), /multiple of its element size/);
    refuses(hex(`${MARKER} bf 61 61 ff`), /without a value/);
  });

  it('refuses a bignum over 4 KiB, which cbor-x would decode in quadratic time', () => {
    const bytes = new Uint8Array(3 + 5 + 1_000_000).fill(0xff);
    bytes.set(hex(`${MARKER} c2 5a 00 0f 42 40`));
    refuses(bytes, /bignum longer than 4096 bytes/);
  });

  it('refuses nesting deeper than the stack with DESERIALIZE, and keeps working', () => {
    const depth = 200_000;
    const bytes = new Uint8Array(3 + depth + 1).fill(0x81);
    bytes.set(hex(MARKER));
    bytes[bytes.length - 1] = 0x00;
    refuses(bytes);
    expect(cbor.deserialize(cbor.serialize({ still: 'works' }))).toEqual({ still: 'works' });
  });
});

describe('cbor decodes untrusted bytes safely', () => {
  it('refuses a __proto__ key and leaves Object.prototype alone', () => {
    // { "__proto__": { "polluted": true } }
    refuses(hex(`${MARKER} a1 69 5f5f70726f746f5f5f a1 68 706f6c6c75746564 f5`), /__proto__/);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('reads constructor.prototype keys as plain data', () => {
    // { "constructor": { "prototype": { "polluted": true } } }
    const bytes = hex(
      `${MARKER} a1 6b 636f6e7374727563746f72 a1 69 70726f746f74797065 a1 68 706f6c6c75746564 f5`,
    );
    const value = cbor.deserialize(bytes) as Record<string, unknown>;
    expect(JSON.stringify(value)).toBe('{"constructor":{"prototype":{"polluted":true}}}');
    expect(Object.hasOwn(value, 'constructor')).toBe(true);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('refuses the tags cbor-x would turn into objects: Error/RegExp, value sharing, records, packing', () => {
    refuses(hex(`${MARKER} d8 1b 82 65 4572726f72 63 626f6f`), /unsupported tag 27/); // Error('boo')
    refuses(hex(`${MARKER} d8 1b 83 66 526567457870 62 612b 61 67`), /unsupported tag 27/); // RegExp
    refuses(hex(`${MARKER} d8 1c a1 61 61 d8 1d 00`), /unsupported tag 28/); // { a: <itself> }: a cycle
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    refuses(tagged(new Encoder({ structuredClone: true }).encode(cyclic)), /unsupported tag/);
    const rows = [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ];
    refuses(tagged(new Encoder({ useRecords: true }).encode(rows)), /unsupported tag/);
    refuses(tagged(new Encoder({ pack: true }).encode(['repeat', 'repeat', 'repeat'])), /unsupported tag/);
    refuses(tagged(new Encoder({ bundleStrings: true }).encode(rows)), /unsupported tag/);
  });

  describe('with a class registered globally with cbor-x by some other module', () => {
    class Dangerous {
      static constructed = 0;
      constructor(readonly command: string) {
        Dangerous.constructed++;
      }
    }
    addExtension({
      Class: Dangerous,
      tag: 40_501,
      encode: (instance: Dangerous, encode: (data: string) => Uint8Array) => encode(instance.command),
      decode: (command: string) => new Dangerous(command),
    });
    const bytes = hex(`${MARKER} d9 9e 35 62 6c 73`); // tag 40501("ls")
    afterAll(() => {
      Dangerous.constructed = 0;
    });

    it('never constructs it, though plain cbor-x does', () => {
      expect(cborxDecode(bytes)).toBeInstanceOf(Dangerous);
      const before = Dangerous.constructed;
      refuses(bytes, /unsupported tag 40501/);
      expect(Dangerous.constructed).toBe(before);
    });

    it('refuses to write it, since it could not read it back', () => {
      expectCacheError(() => cbor.serialize({ job: new Dangerous('rm') }), 'SERIALIZE');
    });
  });
});

describe('cbor reads every decodable byte of foreign CBOR writers it supports', () => {
  it('reads canonical CBOR written by hand with the marker', () => {
    // { "a": [1, -1, 1.5, "x", h'01', null], "t": 1(1700000000) }
    const bytes = hex(`${MARKER} a2 61 61 86 01 20 f9 3e 00 61 78 41 01 f6 61 74 c1 1a 6553f100`);
    expect(cbor.deserialize(bytes)).toStrictEqual({
      a: [1, -1, 1.5, 'x', Buffer.from([1]), null],
      t: new Date(1_700_000_000_000),
    });
  });
});
