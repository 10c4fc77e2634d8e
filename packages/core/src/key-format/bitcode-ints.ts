// pack_ints (u32 and u64 columns) and the length column of strings and vectors, as in bitcode 0.6.9, both
// ways. Like bitcode-pack.ts, decoders accept exactly what the encoders produce.

import {
  type ByteReader,
  type ByteWriter,
  malformed,
  packBytes,
  readUint,
  unpackBytes,
} from './bitcode-pack.js';

// pack_ints. Integer packing p: 4 = one byte (through pack_bytes), 3 = u16, 2 = u32, 1 = u64. The type's own
// width is "none" (no packing): 2 for u32, 1 for u64.
const INT_BYTES = [0, 8, 4, 2, 1] as const;

function intPacking(max: number): number {
  if (max <= 0xff) return 4;
  if (max <= 0xffff) return 3;
  if (max <= 0xffff_ffff) return 2;
  return 1;
}

interface IntHeader {
  readonly raw: boolean;
  readonly packing: number;
  readonly offset: boolean;
  readonly min: number;
}

/** What pack_ints chooses for `count` > 0 values: the sample decides "raw", else max and range decide. */
function intsHeader(values: ArrayLike<number>, count: number, none: number): IntHeader {
  let min = values[0]!;
  let max = min;
  const sample = Math.min(count, 16);
  for (let i = 1; i < sample; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (intPacking(max - min) === none) return { raw: true, packing: none, offset: false, min: 0 };
  for (let i = sample; i < count; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const basic = intPacking(max);
  const offset = intPacking(max - min);
  return offset > basic && count > 5
    ? { raw: false, packing: offset, offset: true, min }
    : { raw: false, packing: basic, offset: false, min: 0 };
}

/**
 * bitcode's pack_ints for unsigned integers `width` bytes wide (4 or 8): nothing for no values, else a header
 * byte, an optional minimum, then every value in the narrowest width that fits (bytes go through pack_bytes).
 */
export function packInts(out: ByteWriter, values: ArrayLike<number>, count: number, width: 4 | 8): void {
  if (count === 0) return;
  const none = width === 4 ? 2 : 1;
  const header = intsHeader(values, count, none);
  const bytes = out.bytes;
  if (header.raw) {
    bytes[out.pos++] = 0;
    for (let i = 0; i < count; i++) out.uint(values[i]!, width);
    return;
  }
  const { packing, min } = header;
  if (header.offset) {
    bytes[out.pos++] = (packing - none) * 2 - 1;
    out.uint(min, width);
  } else {
    bytes[out.pos++] = (packing - none) * 2;
  }
  if (packing === 4) {
    if (min === 0) {
      packBytes(out, values, count);
    } else {
      const shifted = new Uint8Array(count);
      for (let i = 0; i < count; i++) shifted[i] = values[i]! - min;
      packBytes(out, shifted, count);
    }
    return;
  }
  let pos = out.pos;
  for (let i = 0; i < count; i++) {
    const v = values[i]! - min;
    if (packing === 3) {
      bytes[pos++] = v & 0xff;
      bytes[pos++] = v >>> 8;
    } else {
      out.pos = pos;
      out.uint(v, packing === 2 ? 4 : 8);
      pos = out.pos;
    }
  }
  out.pos = pos;
}

/**
 * Reverses {@link packInts} for `count` values. Every value (and the minimum) must be at most `limit`, which
 * keeps them exact as JS numbers; lengths pass the input size, so no length can point past the input.
 */
export function unpackInts(input: ByteReader, count: number, width: 4 | 8, limit: number): number[] {
  if (count === 0) return [];
  const none = width === 4 ? 2 : 1;
  const headerAt = input.pos;
  const header = input.byte();
  const packing = ((header + 1) >> 1) + none;
  const offset = (header & 1) === 1;
  if (packing > 4) throw malformed(`invalid integer packing code ${header} at byte ${headerAt}`);
  if (count === 1) return [unpackOneInt(input, packing, offset, headerAt, limit)];
  const min = offset ? input.uint(width) : 0;
  if (min > limit) throw malformed(`integer ${min} at byte ${headerAt + 1} out of range (limit ${limit})`);
  let values: number[];
  if (packing === 4) {
    const small = unpackBytes(input, count);
    values = new Array(count);
    for (let i = 0; i < count; i++) values[i] = small[i]! + min;
  } else {
    const size = INT_BYTES[packing]!;
    let at = input.skip(count * size);
    const bytes = input.bytes;
    values = new Array(count);
    for (let i = 0; i < count; i++, at += size) values[i] = readUint(bytes, at, size) + min;
  }
  for (let i = 0; i < count; i++) {
    if (values[i]! > limit)
      throw malformed(`integer ${values[i]} out of range (limit ${limit}) after byte ${headerAt}`);
  }
  const expected = intsHeader(values, count, none);
  const canonical = expected.raw
    ? header === 0
    : expected.packing === packing && expected.offset === offset && expected.min === min;
  if (!canonical) throw malformed(`non-canonical integer packing at byte ${headerAt}`);
  return values;
}

/**
 * {@link unpackInts} for a single value, the common case (a version, a count, one long string): no offset and
 * the narrowest packing that fits, one byte being a raw byte since pack_bytes leaves one value as it is.
 */
function unpackOneInt(
  input: ByteReader,
  packing: number,
  offset: boolean,
  headerAt: number,
  limit: number,
): number {
  if (offset) throw malformed(`non-canonical integer packing at byte ${headerAt}`);
  const value = packing === 4 ? input.byte() : input.uint(INT_BYTES[packing]!);
  if (value > limit) throw malformed(`integer ${value} out of range (limit ${limit}) after byte ${headerAt}`);
  if (intPacking(value) !== packing) throw malformed(`non-canonical integer packing at byte ${headerAt}`);
  return value;
}

/** The largest length LENGTHS keeps in its byte column; longer ones go to a u64 column as full values. */
const LARGE = 255;

/** {@link packInts} of a single value: the narrowest packing that fits, never an offset. */
export function packOneInt(out: ByteWriter, value: number, width: 4 | 8): void {
  const packing = intPacking(value);
  const bytes = out.bytes;
  bytes[out.pos++] = (packing - (width === 4 ? 2 : 1)) * 2;
  if (packing === 4) {
    bytes[out.pos++] = value;
  } else if (packing === 3) {
    bytes[out.pos++] = value & 0xff;
    bytes[out.pos++] = value >>> 8;
  } else {
    out.uint(value, INT_BYTES[packing]!);
  }
}

/** {@link packLengths} of a column holding one length. */
export function packLength(out: ByteWriter, length: number): void {
  if (length < LARGE) {
    out.bytes[out.pos++] = length;
  } else {
    out.bytes[out.pos++] = LARGE;
    packOneInt(out, length, 8);
  }
}

/** bitcode's length column: `min(n, 255)` for each length through pack_bytes, then every length >= 255 as u64. */
export function packLengths(out: ByteWriter, lengths: ArrayLike<number>, count: number): void {
  let large: number[] | undefined;
  let small: ArrayLike<number> = lengths;
  for (let i = 0; i < count; i++) {
    if (lengths[i]! >= LARGE) {
      if (large === undefined) {
        large = [];
        small = Array.from({ length: count }, (_, j) => Math.min(lengths[j]!, LARGE));
      }
      large.push(lengths[i]!);
    }
  }
  packBytes(out, small, count);
  if (large !== undefined) packInts(out, large, large.length, 8);
}

/** Reverses {@link packLengths} for a column of one length (a part count, a prefix). */
export function unpackLength(input: ByteReader, limit: number): number {
  const small = input.byte();
  if (small < LARGE) {
    if (small > limit) throw malformed(`length ${small} exceeds the input`);
    return small;
  }
  const large = unpackInts(input, 1, 8, limit)[0]!;
  if (large < LARGE) throw malformed(`length ${large} stored in the long-length column (must be >= 255)`);
  return large;
}

/** Reverses {@link packLengths}. Every length is at most `limit`; long ones must be >= 255 (canonical). */
export function unpackLengths(input: ByteReader, count: number, limit: number): ArrayLike<number> {
  const small = unpackBytes(input, count);
  let largeCount = 0;
  for (let i = 0; i < count; i++) if (small[i] === LARGE) largeCount++;
  if (largeCount === 0) {
    for (let i = 0; i < count; i++) {
      if (small[i]! > limit) throw malformed(`length ${small[i]} exceeds the input`);
    }
    return small;
  }
  const large = unpackInts(input, largeCount, 8, limit);
  const lengths: number[] = new Array(count);
  for (let i = 0, next = 0; i < count; i++) {
    const v = small[i]!;
    if (v === LARGE) {
      const n = large[next++]!;
      if (n < LARGE) throw malformed(`length ${n} stored in the long-length column (must be >= 255)`);
      lengths[i] = n;
    } else {
      lengths[i] = v;
    }
  }
  return lengths;
}
