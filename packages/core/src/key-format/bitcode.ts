import { CacheKey, type KeyPart } from '../cache-key.js';
import { CacheError } from '../errors.js';
import {
  packLength,
  packLengths,
  packOneInt,
  unpackInts,
  unpackLength,
  unpackLengths,
} from './bitcode-ints.js';
import { ByteReader, ByteWriter, malformed, packBits, unpackBits } from './bitcode-pack.js';
import type { KeyFormat } from './key-format.js';
import { strictUtf8, writeUtf8 } from './utf8.js';

// Encoding fills two reusable buffers (string bytes, then the whole key) and returns a copy of the result.
// Keys too big for the shared buffers get buffers of their own, so one huge key does not pin memory.
const SHARED_LIMIT = 64 * 1024;
let sharedText = new Uint8Array(1024);
let sharedOut = new Uint8Array(1024);

function textBuffer(size: number): Uint8Array {
  if (size <= sharedText.length) return sharedText;
  if (size > SHARED_LIMIT) return new Uint8Array(size);
  sharedText = new Uint8Array(Math.min(SHARED_LIMIT, Math.max(size, sharedText.length * 2)));
  return sharedText;
}

function outBuffer(size: number): Uint8Array {
  if (size <= sharedOut.length) return sharedOut;
  if (size > SHARED_LIMIT) return new Uint8Array(size);
  sharedOut = new Uint8Array(Math.min(SHARED_LIMIT, Math.max(size, sharedOut.length * 2)));
  return sharedOut;
}

/** Largest number of bytes one `LENGTHS` column of `count` lengths can take (see bitcode-pack.ts). */
function lengthsBound(count: number): number {
  return 13 + 9 * count;
}

function encodeKey(key: CacheKey): Uint8Array {
  const parts = key.parts;
  const count = parts.length;
  let units = key.prefix.length;
  let present = 0;
  for (let i = 0; i < count; i++) {
    const part = parts[i]!;
    units += part.name.length;
    if (part.value !== null) {
      units += part.value.length;
      present++;
    }
  }

  // Strings first, into the text buffer in output order: names, present values, prefix.
  const text = textBuffer(units * 3);
  const nameLengths: number[] = new Array(count);
  const valueLengths: number[] = new Array(present);
  const presence: boolean[] = new Array(count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = pos;
    pos = writeUtf8(parts[i]!.name, text, pos);
    nameLengths[i] = pos - start;
  }
  const namesEnd = pos;
  for (let i = 0, v = 0; i < count; i++) {
    const value = parts[i]!.value;
    presence[i] = value !== null;
    if (value !== null) {
      const start = pos;
      pos = writeUtf8(value, text, pos);
      valueLengths[v++] = pos - start;
    }
  }
  const valuesEnd = pos;
  pos = writeUtf8(key.prefix, text, pos);
  const prefixLength = pos - valuesEnd;

  const bound = pos + 2 * lengthsBound(1) + lengthsBound(count) + lengthsBound(present) + (count >> 3) + 8;
  const out = new ByteWriter(outBuffer(bound));
  packLength(out, count);
  packLengths(out, nameLengths, count);
  copy(text, 0, namesEnd, out);
  packBits(out, presence, count);
  packLengths(out, valueLengths, present);
  copy(text, namesEnd, valuesEnd, out);
  packOneInt(out, key.version, 4);
  packLength(out, prefixLength);
  copy(text, valuesEnd, pos, out);
  return out.bytes.slice(0, out.pos);
}

/** Appends `from[start..end)` to `out`; a loop for the few bytes of most keys, `set` for long runs. */
function copy(from: Uint8Array, start: number, end: number, out: ByteWriter): void {
  const bytes = out.bytes;
  if (end - start > 32) {
    bytes.set(from.subarray(start, end), out.pos);
    out.pos += end - start;
    return;
  }
  let pos = out.pos;
  for (let i = start; i < end; i++) bytes[pos++] = from[i]!;
  out.pos = pos;
}

function invalidUtf8(what: string, at: number, cause: unknown): CacheError {
  return new CacheError('KEY_DECODE', `malformed bitcode key: ${what} at byte ${at} is not valid UTF-8`, {
    cause,
  });
}

/** Reads one string of `length` bytes. */
function readString(input: ByteReader, length: number, what: string): string {
  if (length > input.remaining) throw malformed(`${what} runs past the end of the input (byte ${input.pos})`);
  const start = input.skip(length);
  try {
    return strictUtf8(input.bytes, start, start + length);
  } catch (error) {
    throw invalidUtf8(what, start, error);
  }
}

/** Reads `count` strings of the given byte lengths, stored back to back. */
function readStrings(input: ByteReader, lengths: ArrayLike<number>, count: number, what: string): string[] {
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += lengths[i]!;
    if (total > input.remaining) {
      throw malformed(`${what} bytes run past the end of the input (byte ${input.pos})`);
    }
  }
  const start = input.skip(total);
  const bytes = input.bytes;
  const strings: string[] = new Array(count);
  if (count === 0) return strings;
  // Decode the whole run at once. When it is all ASCII (as many characters as bytes), byte offsets are
  // character offsets and the strings are slices of it. Otherwise decode string by string: a character may be
  // split across two strings, which the whole run would hide.
  let all: string | undefined;
  try {
    all = strictUtf8(bytes, start, start + total);
  } catch {
    all = undefined;
  }
  if (all !== undefined && all.length === total) {
    for (let i = 0, at = 0; i < count; i++) {
      const end = at + lengths[i]!;
      strings[i] = count === 1 ? all : all.slice(at, end);
      at = end;
    }
    return strings;
  }
  for (let i = 0, at = start; i < count; i++) {
    const end = at + lengths[i]!;
    try {
      strings[i] = strictUtf8(bytes, at, end);
    } catch (error) {
      throw invalidUtf8(what, at, error);
    }
    at = end;
  }
  return strings;
}

function decodeKey(bytes: Uint8Array): CacheKey {
  const input = new ByteReader(bytes);
  // No length can exceed the input's size: every byte counted by a length is in the input.
  const limit = bytes.length;
  const count = unpackLength(input, limit);
  const names = readStrings(input, unpackLengths(input, count, limit), count, 'key part name');
  const presence = unpackBits(input, count);
  let present = 0;
  for (let i = 0; i < count; i++) if (presence[i]) present++;
  const values = readStrings(input, unpackLengths(input, present, limit), present, 'key part value');
  const version = unpackInts(input, 1, 4, 0xffff_ffff)[0]!;
  const prefix = readString(input, unpackLength(input, limit), 'key prefix');
  if (input.remaining !== 0) throw malformed(`${input.remaining} trailing bytes after byte ${input.pos}`);

  const parts: KeyPart[] = new Array(count);
  for (let i = 0, v = 0; i < count; i++) {
    parts[i] = { name: names[i]!, value: presence[i] ? values[v++]! : null };
  }
  return new CacheKey(prefix, version, parts);
}

/**
 * hitbox's compact binary key encoding (`CacheKeyFormat::Bitcode`, the bitcode 0.6 columnar layout),
 * byte-compatible with hitbox 0.2 so a Rust hitbox service and this library can share one Redis. Lossless.
 *
 * Keys are binary: they cannot be read in `redis-cli` or matched by a prefix pattern. Decoding is strict and
 * canonical: it accepts exactly the bytes `encode` produces (truncated input, trailing bytes, invalid packings,
 * non-canonical packings and invalid UTF-8 are `KEY_DECODE` errors), so `encode(decode(bytes))` equals `bytes`.
 */
export const bitcode: KeyFormat = Object.freeze({
  id: 'bitcode',
  lossless: true,
  encode(key: CacheKey): Uint8Array {
    return encodeKey(key);
  },
  decode(bytes: Uint8Array): CacheKey {
    if (!(bytes instanceof Uint8Array))
      throw new CacheError('KEY_DECODE', 'bitcode key must be a Uint8Array');
    try {
      return decodeKey(bytes);
    } catch (error) {
      if (CacheError.is(error, 'KEY_DECODE')) throw error;
      throw new CacheError('KEY_DECODE', 'malformed bitcode key', { cause: error });
    }
  },
});
