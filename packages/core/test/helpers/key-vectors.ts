import { readFileSync } from 'node:fs';
import { CacheKey } from '../../src/index.js';

/** One encoding case: the key's fields and its expected bitcode bytes (and url-encoded text when known). */
export interface KeyVector {
  readonly name: string;
  readonly prefix: string;
  readonly version: number;
  readonly parts: readonly (readonly [string, string | null])[];
  readonly bitcodeHex: string;
  readonly urlEncoded?: string;
}

/** The vectors produced by hitbox-core 0.2.0 / bitcode 0.6.9 (copied from the shared reference). */
export const hitboxVectors: readonly KeyVector[] = (
  JSON.parse(readFileSync(new URL('../fixtures/hitbox-key-vectors.json', import.meta.url), 'utf8')) as {
    vectors: KeyVector[];
  }
).vectors;

const ab: KeyVector['parts'] = [['a', 'b']];
const x = (byteHex: string, times: number): string => byteHex.repeat(times);
const nulls = (names: string[]): [string, null][] => names.map((n) => [n, null]);

/**
 * Cases derived by hand from the layout in hitbox-backend.md section 6.2 (not produced by our encoder): the
 * branches the hitbox vectors do not reach, such as u32 versions at every width, long length columns, 255+ parts
 * and every pack_bytes factor. Each hex string is built column by column in the layout's order.
 */
export const derivedVectors: readonly KeyVector[] = [
  // Version column alone: [a=b] is "01 01 61 01 01 62", the prefix "" is "00".
  {
    name: 'version 255 (one byte)',
    prefix: '',
    version: 255,
    parts: ab,
    bitcodeHex: '010161010162' + '04ff' + '00',
  },
  {
    name: 'version 256 (u16)',
    prefix: '',
    version: 256,
    parts: ab,
    bitcodeHex: '010161010162' + '020001' + '00',
  },
  {
    name: 'version 65535 (u16)',
    prefix: '',
    version: 65535,
    parts: ab,
    bitcodeHex: '010161010162' + '02ffff' + '00',
  },
  {
    name: 'version 65536 (u32)',
    prefix: '',
    version: 65536,
    parts: ab,
    bitcodeHex: '010161010162' + '0000000100' + '00',
  },
  {
    name: 'version 4e9 (u32)',
    prefix: '',
    version: 4_000_000_000,
    parts: ab,
    bitcodeHex: '010161010162' + '0000286bee' + '00',
  },
  {
    name: 'version 2^32-1',
    prefix: '',
    version: 0xffff_ffff,
    parts: ab,
    bitcodeHex: '010161010162' + '00ffffffff' + '00',
  },
  {
    // Count 300 -> small [255] + u64 [300] as u16. 300 lengths of 1 -> bits (code 5): 37 x ff + 0f.
    name: '300 parts without values',
    prefix: '',
    version: 0,
    parts: nulls(Array.from({ length: 300 }, () => 'a')),
    bitcodeHex: 'ff042c01' + '0a' + x('ff', 37) + '0f' + x('61', 300) + x('00', 38) + '0400' + '00',
  },
  {
    // Count 255 -> small [255] + u64 [255] as one byte ("06 ff"). 255 bits: 31 x ff + 7f.
    name: '255 parts k=v',
    prefix: '',
    version: 0,
    parts: Array.from({ length: 255 }, () => ['k', 'v'] as const),
    bitcodeHex:
      'ff06ff' +
      ('0a' + x('ff', 31) + '7f') +
      x('6b', 255) +
      (x('ff', 31) + '7f') +
      ('0a' + x('ff', 31) + '7f') +
      x('76', 255) +
      '0400' +
      '00',
  },
  {
    name: '254 parts without values (count stays in the byte column)',
    prefix: '',
    version: 0,
    parts: nulls(Array.from({ length: 254 }, () => 'a')),
    bitcodeHex: 'fe' + '0a' + x('ff', 31) + '3f' + x('61', 254) + x('00', 32) + '0400' + '00',
  },
  {
    name: 'name length 254',
    prefix: '',
    version: 0,
    parts: [['n'.repeat(254), 'v']],
    bitcodeHex: '01' + 'fe' + x('6e', 254) + '01' + '01' + '76' + '0400' + '00',
  },
  {
    name: 'name length 255',
    prefix: '',
    version: 0,
    parts: [['n'.repeat(255), 'v']],
    bitcodeHex: '01' + 'ff06ff' + x('6e', 255) + '01' + '01' + '76' + '0400' + '00',
  },
  {
    name: 'value length 65535 (u16 in the long-length column)',
    prefix: '',
    version: 0,
    parts: [['a', 'x'.repeat(65535)]],
    bitcodeHex: '010161' + '01' + 'ff04ffff' + x('78', 65535) + '0400' + '00',
  },
  {
    name: 'value length 65536 (u32 in the long-length column)',
    prefix: '',
    version: 0,
    parts: [['a', 'x'.repeat(65536)]],
    bitcodeHex: '010161' + '01' + 'ff0200000100' + x('78', 65536) + '0400' + '00',
  },
  {
    name: 'prefix length 255',
    prefix: 'p'.repeat(255),
    version: 0,
    parts: [],
    bitcodeHex: '00' + '0400' + 'ff06ff' + x('70', 255),
  },
  {
    // Value lengths 300..305: small 6 x 255 with offset (09 ff, then six 0 bits); u64 offset by 300 as one
    // byte each (05, min as 8 bytes, then pack_bytes [0..5] base 6: 04 4e cf).
    name: 'six long values (offset packing in the u64 column)',
    prefix: '',
    version: 0,
    parts: Array.from({ length: 6 }, (_, i) => ['a', 'y'.repeat(300 + i)] as const),
    bitcodeHex:
      '06' +
      '0a3f' +
      x('61', 6) +
      '3f' +
      ('09ff00' + '05' + '2c01000000000000' + '044ecf') +
      x('79', 300 + 301 + 302 + 303 + 304 + 305) +
      '0400' +
      '00',
  },
  {
    // Value lengths [3, 300, 5]: small [3, 255, 5], min 3 max 255, no packing helps: 00 + raw.
    name: 'short and long values mixed',
    prefix: '',
    version: 0,
    parts: [
      ['a', 'xxx'],
      ['b', 'y'.repeat(300)],
      ['c', 'zzzzz'],
    ],
    bitcodeHex:
      '03' +
      '0a07' +
      '616263' +
      '07' +
      ('0003ff05' + '042c01') +
      '787878' +
      x('79', 300) +
      x('7a', 5) +
      '0400' +
      '00',
  },
  {
    // Five name lengths 10..14: offset would help but needs more than 5 values, so base 16: ba dc 0e.
    name: 'five names 10..14 (no offset at n = 5)',
    prefix: '',
    version: 0,
    parts: nulls([10, 11, 12, 13, 14].map((n) => 'k'.repeat(n))),
    bitcodeHex: '05' + '02badc0e' + x('6b', 60) + '00' + '0400' + '00',
  },
  {
    // Name lengths [2, 0, 1]: max 2 -> factor 3 (code 4, header 08), 2 + 0*3 + 1*9 = 0b.
    name: 'factor 3 packing',
    prefix: '',
    version: 0,
    parts: nulls(['aa', '', 'b']),
    bitcodeHex: '03' + '080b' + '616162' + '00' + '0400' + '00',
  },
  {
    // Name lengths [3, 0, 1, 2]: max 3 -> factor 4 (code 3, header 06), 3 + 0*4 + 1*16 + 2*64 = 0x93.
    name: 'factor 4 packing',
    prefix: '',
    version: 0,
    parts: nulls(['aaa', '', 'a', 'aa']),
    bitcodeHex: '04' + '0693' + '616161' + '61' + '6161' + '00' + '0400' + '00',
  },
  {
    // Name lengths 100..106: range 6 -> factor 16 with offset (header 01, min 0x64), pairs 10 32 54 06.
    name: 'offset factor 16 packing',
    prefix: '',
    version: 0,
    parts: nulls([100, 101, 102, 103, 104, 105, 106].map((n) => 'a'.repeat(n))),
    bitcodeHex: '07' + '016410325406' + x('61', 721) + '00' + '0400' + '00',
  },
  {
    name: 'astral prefix and empty value',
    prefix: '😀',
    version: 7,
    parts: [['k', '']],
    bitcodeHex: '01' + '01' + '6b' + '01' + '00' + '0407' + '04' + 'f09f9880',
  },
];

/** Every vector, hitbox's and the derived ones. */
export const allVectors: readonly KeyVector[] = [...hitboxVectors, ...derivedVectors];

/** The key a vector describes. */
export function vectorKey(vector: KeyVector): CacheKey {
  return CacheKey.from(vector.parts, { prefix: vector.prefix, version: vector.version });
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Bytes of a hex string. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The key as plain data, for readable `toEqual` diffs. */
export function plainKey(key: CacheKey): {
  prefix: string;
  version: number;
  parts: [string, string | null][];
} {
  return { prefix: key.prefix, version: key.version, parts: key.parts.map((p) => [p.name, p.value]) };
}
