// The byte-level packings of bitcode 0.6.9 that hitbox keys use, both ways: pack_bytes (u8 columns) and the
// bit column of an Option (variant bits), plus the reader and writer they share with bitcode-ints.ts.
// Decoders accept exactly what the encoders produce: any other byte string is a KEY_DECODE error, raised
// before anything is allocated from a length read in the input.

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

  /** Reads a `width` (2, 4 or 8) byte little-endian unsigned integer. Values above 2^53 come back inexact. */
  uint(width: number): number {
    return readUint(this.bytes, this.skip(width), width);
  }
}

/** The `size` (2, 4 or 8) byte little-endian unsigned integer at `at`, already bounds-checked. */
export function readUint(b: Uint8Array, at: number, size: number): number {
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

/**
 * The header byte pack_bytes writes for `count` values spanning `min..max` (count > 2): the packing code times
 * two, minus one when the minimum is subtracted first (only worth it, and only done, for more than 5 values).
 */
function bytesHeader(min: number, max: number, count: number): number {
  const basic = bytePacking(max);
  const offset = bytePacking(max - min);
  return offset > basic && count > 5 ? offset * 2 - 1 : basic * 2;
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
  const header = bytesHeader(min, max, count);
  const code = (header + 1) >> 1;
  bytes[pos++] = header;
  if ((header & 1) === 1) bytes[pos++] = min;
  else min = 0;
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

/**
 * Reverses {@link packBytes} for `count` values, rejecting invalid codes, overflowing groups and any
 * non-canonical form. The result may be a view of the input: read it, do not modify it.
 */
export function unpackBytes(input: ByteReader, count: number): Uint8Array {
  if (count <= 2) {
    const start = input.skip(count);
    return input.bytes.subarray(start, start + count);
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
    values = input.bytes.subarray(start, start + count);
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
  if (bytesHeader(lo, hi, count) !== header || (offset && lo !== min)) {
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
