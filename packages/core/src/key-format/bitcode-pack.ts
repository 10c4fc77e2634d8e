// The integer packings of bitcode 0.6.9 that hitbox keys use, both ways: pack_bytes (u8 columns), the bit
// column of an Option (variant bits), pack_ints (u32 and u64 columns) and the length column of strings and
// vectors. Decoders accept exactly what the encoders produce: any other byte string is a KEY_DECODE error,
// raised before anything is allocated from a length read in the input.

import { CacheError } from '../errors.js';

/** Builds the error every malformed input raises. */
export function malformed(message: string): CacheError {
  return new CacheError('KEY_DECODE', `malformed bitcode key: ${message}`);
}

/** Output buffer with a fixed capacity the caller has checked in advance. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Writes `value` as `width` (4 or 8) little-endian bytes. `value` is a non-negative safe integer. */
  uint(value: number, width: number): void {
    const bytes = this.bytes;
    let pos = this.pos;
    let low = value % 0x1_0000_0000;
    bytes[pos++] = low & 0xff;
    bytes[pos++] = (low >>> 8) & 0xff;
    bytes[pos++] = (low >>> 16) & 0xff;
    bytes[pos++] = low >>> 24;
    if (width === 8) {
      low = Math.floor(value / 0x1_0000_0000);
      bytes[pos++] = low & 0xff;
      bytes[pos++] = (low >>> 8) & 0xff;
      bytes[pos++] = (low >>> 16) & 0xff;
      bytes[pos++] = low >>> 24;
    }
    this.pos = pos;
  }
}

/** Cursor over the input. Every read checks the remaining length first. */
export class ByteReader {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw malformed(`truncated at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  /** Skips `count` bytes and returns the offset where they start. */
  skip(count: number): number {
    if (count > this.bytes.length - this.pos) {
      throw malformed(`truncated: ${count} bytes needed at byte ${this.pos}, ${this.remaining} left`);
    }
    const start = this.pos;
    this.pos += count;
    return start;
  }

  /** Reads a `width` (4 or 8) byte little-endian unsigned integer. Values above 2^53 come back inexact. */
  uint(width: number): number {
    return readUint(this.bytes, this.skip(width), width);
  }
}

/** The `size` (2, 4 or 8) byte little-endian unsigned integer at `at`, already bounds-checked. */
function readUint(b: Uint8Array, at: number, size: number): number {
  if (size === 2) return b[at]! | (b[at + 1]! << 8);
  const low = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  if (size === 4) return low;
  const high = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
  return high * 0x1_0000_0000 + low;
}

// pack_bytes. A packing code c gives FACTORS[c] states per value and GROUPS[c] values per byte; a larger code
// packs tighter. A full group must stay below LIMITS[c] = FACTORS[c] ** GROUPS[c] (capped at 256).
const FACTORS = [256, 16, 6, 4, 3, 2] as const;
const GROUPS = [1, 2, 3, 4, 5, 8] as const;
const LIMITS = [256, 256, 216, 256, 243, 256] as const;

function bytePacking(max: number): number {
  if (max <= 1) return 5;
  if (max === 2) return 4;
  if (max === 3) return 3;
  if (max <= 5) return 2;
  if (max <= 15) return 1;
  return 0;
}

/** The header byte pack_bytes writes for `count` values spanning `min..max` (count > 2). */
function bytesHeader(min: number, max: number, count: number): { code: number; offset: boolean } {
  const basic = bytePacking(max);
  const offset = bytePacking(max - min);
  return offset > basic && count > 5 ? { code: offset, offset: true } : { code: basic, offset: false };
}

/**
 * bitcode's pack_bytes: up to two values raw, otherwise a packing header (optionally followed by the minimum,
 * subtracted from every value) then the values packed several per byte. Values are 0..255.
 */
export function packBytes(out: ByteWriter, values: ArrayLike<number>, count: number): void {
  const bytes = out.bytes;
  let pos = out.pos;
  if (count <= 2) {
    for (let i = 0; i < count; i++) bytes[pos++] = values[i]!;
    out.pos = pos;
    return;
  }
  let min = 255;
  let max = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const { code, offset } = bytesHeader(min, max, count);
  if (offset) {
    bytes[pos++] = code * 2 - 1;
    bytes[pos++] = min;
  } else {
    bytes[pos++] = code * 2;
    min = 0;
  }
  if (code === 0) {
    for (let i = 0; i < count; i++) bytes[pos++] = values[i]!;
  } else {
    const factor = FACTORS[code]!;
    const group = GROUPS[code]!;
    for (let i = 0; i < count; i += group) {
      const end = Math.min(i + group, count);
      let acc = 0;
      for (let j = end - 1; j >= i; j--) acc = acc * factor + (values[j]! - min);
      bytes[pos++] = acc;
    }
  }
  out.pos = pos;
}

/** Reverses {@link packBytes} for `count` values, rejecting invalid codes, overflowing groups and any non-canonical form. */
export function unpackBytes(input: ByteReader, count: number): Uint8Array {
  if (count <= 2) {
    const start = input.skip(count);
    return input.bytes.slice(start, start + count);
  }
  const headerAt = input.pos;
  const header = input.byte();
  const code = (header + 1) >> 1;
  const offset = (header & 1) === 1;
  if (code > 5) throw malformed(`invalid packing code ${header} at byte ${headerAt}`);
  const min = offset ? input.byte() : 0;
  let values: Uint8Array;
  if (code === 0) {
    const start = input.skip(count);
    values = input.bytes.slice(start, start + count);
  } else {
    const factor = FACTORS[code]!;
    const group = GROUPS[code]!;
    const start = input.skip(Math.ceil(count / group));
    const packed = input.bytes;
    values = new Uint8Array(count);
    for (let i = 0, at = start; i < count; i += group, at++) {
      const end = Math.min(i + group, count);
      let acc = packed[at]!;
      const limit = end - i === group ? LIMITS[code]! : factor ** (end - i);
      if (acc >= limit) throw malformed(`packed byte ${acc} at byte ${at} out of range for its packing`);
      for (let j = i; j < end; j++) {
        const v = (acc % factor) + min;
        if (v > 255) throw malformed(`offset value out of range at byte ${at}`);
        values[j] = v;
        acc = (acc - (acc % factor)) / factor;
      }
    }
  }
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const expected = bytesHeader(lo, hi, count);
  if (expected.code !== code || expected.offset !== offset || (offset && lo !== min)) {
    throw malformed(`non-canonical packing at byte ${headerAt}`);
  }
  return values;
}

/** The value-present column of an Option: one bit per value, least significant first, no header. */
export function packBits(out: ByteWriter, bits: ArrayLike<boolean>, count: number): void {
  const bytes = out.bytes;
  let pos = out.pos;
  for (let i = 0; i < count; i += 8) {
    const end = Math.min(i + 8, count);
    let acc = 0;
    for (let j = i; j < end; j++) if (bits[j]) acc |= 1 << (j - i);
    bytes[pos++] = acc;
  }
  out.pos = pos;
}

/** Reverses {@link packBits}. Unused bits of the last byte must be zero. */
export function unpackBits(input: ByteReader, count: number): boolean[] {
  const start = input.skip(Math.ceil(count / 8));
  const bytes = input.bytes;
  const bits: boolean[] = new Array(count);
  for (let i = 0; i < count; i++) bits[i] = ((bytes[start + (i >> 3)]! >> (i & 7)) & 1) === 1;
  const used = count & 7;
  if (used !== 0 && bytes[start + (count >> 3)]! >> used !== 0) {
    throw malformed(`unused bits set at byte ${start + (count >> 3)}`);
  }
  return bits;
}

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

/** The largest length LENGTHS keeps in its byte column; longer ones go to a u64 column as full values. */
const LARGE = 255;

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
