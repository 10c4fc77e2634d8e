import { crc32 } from 'node:zlib';
import { CacheError } from '@cache/core';

/**
 * Layout of an entry file, all integers big-endian:
 *
 * ```
 *  0  4  magic "CBFS"
 *  4  1  layout version (1)
 *  5  1  flags: bit 0 = has expire, bit 1 = has stale
 *  6  1  format id length F (UTF-8 bytes)
 *  7  1  compressor id length C
 *  8  8  expire, Unix ms as float64 (0 when absent)
 * 16  8  stale, Unix ms as float64 (0 when absent)
 * 24  4  key length K
 * 28  4  data length D
 * 32  4  CRC-32 of every other byte of the file (bytes 0-31 and 36 to the end)
 * 36     format id (F), compressor id (C), key bytes (K), data (D): the file ends exactly there
 * ```
 *
 * The fixed 36 bytes are all a sweep reads to decide whether a file has expired. The checksum makes a flipped
 * bit in the instants or the data a `CORRUPT_ENTRY` rather than a wrong value.
 */
export const HEADER_BYTES = 36;
const CHECKSUM_AT = 32;

const MAGIC = 0x43424653; // "CBFS"
const LAYOUT_VERSION = 1;
const HAS_EXPIRE = 1;
const HAS_STALE = 2;
/** Longest format or compressor id, in UTF-8 bytes, the header can hold. */
export const MAX_ID_BYTES = 255;

/** Everything an entry file holds. */
export interface EntryFile {
  readonly expire: number | undefined;
  readonly stale: number | undefined;
  readonly formatId: Uint8Array;
  readonly compressorId: Uint8Array;
  readonly key: Uint8Array;
  readonly data: Uint8Array;
}

/** The fixed part of an entry file, enough to expire it. */
export interface EntryHeader {
  readonly expire: number | undefined;
  readonly stale: number | undefined;
  readonly formatIdBytes: number;
  readonly compressorIdBytes: number;
  readonly keyBytes: number;
  readonly dataBytes: number;
}

function corrupt(message: string): CacheError {
  return new CacheError('CORRUPT_ENTRY', `not a valid entry file: ${message}`);
}

function readInstant(view: DataView, offset: number, present: boolean): number | undefined {
  if (!present) return undefined;
  const ms = view.getFloat64(offset);
  if (!Number.isSafeInteger(ms)) throw corrupt('an instant is not an integer number of milliseconds');
  return ms;
}

/** Serializes an entry into one buffer, ready to be written in one call. */
export function encodeEntry(entry: EntryFile): Uint8Array {
  const { formatId, compressorId, key, data } = entry;
  const bytes = new Uint8Array(
    HEADER_BYTES + formatId.length + compressorId.length + key.length + data.length,
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, MAGIC);
  view.setUint8(4, LAYOUT_VERSION);
  view.setUint8(
    5,
    (entry.expire === undefined ? 0 : HAS_EXPIRE) | (entry.stale === undefined ? 0 : HAS_STALE),
  );
  view.setUint8(6, formatId.length);
  view.setUint8(7, compressorId.length);
  view.setFloat64(8, entry.expire ?? 0);
  view.setFloat64(16, entry.stale ?? 0);
  view.setUint32(24, key.length);
  view.setUint32(28, data.length);
  let offset = HEADER_BYTES;
  for (const part of [formatId, compressorId, key, data]) {
    bytes.set(part, offset);
    offset += part.length;
  }
  view.setUint32(CHECKSUM_AT, checksum(bytes));
  return bytes;
}

function checksum(bytes: Uint8Array): number {
  return crc32(bytes.subarray(HEADER_BYTES), crc32(bytes.subarray(0, CHECKSUM_AT)));
}

/**
 * Parses the fixed header and checks it against the file's size, so a truncated or padded file is caught before
 * its body is trusted. Throws `CORRUPT_ENTRY` for anything that is not an entry file of this layout.
 */
export function decodeHeader(head: Uint8Array, fileBytes: number): EntryHeader {
  if (head.length < HEADER_BYTES || fileBytes < HEADER_BYTES) throw corrupt('shorter than its header');
  const view = new DataView(head.buffer, head.byteOffset, HEADER_BYTES);
  if (view.getUint32(0) !== MAGIC) throw corrupt('wrong magic bytes');
  const version = view.getUint8(4);
  if (version !== LAYOUT_VERSION) throw corrupt(`unknown layout version ${version}`);
  const flags = view.getUint8(5);
  if ((flags & ~(HAS_EXPIRE | HAS_STALE)) !== 0) throw corrupt('unknown flags');
  const header: EntryHeader = {
    expire: readInstant(view, 8, (flags & HAS_EXPIRE) !== 0),
    stale: readInstant(view, 16, (flags & HAS_STALE) !== 0),
    formatIdBytes: view.getUint8(6),
    compressorIdBytes: view.getUint8(7),
    keyBytes: view.getUint32(24),
    dataBytes: view.getUint32(28),
  };
  const expected =
    HEADER_BYTES + header.formatIdBytes + header.compressorIdBytes + header.keyBytes + header.dataBytes;
  if (expected !== fileBytes) throw corrupt(`header announces ${expected} bytes, the file has ${fileBytes}`);
  return header;
}

/** Offset of the key bytes in a file with this header. */
export function keyOffset(header: EntryHeader): number {
  return HEADER_BYTES + header.formatIdBytes + header.compressorIdBytes;
}

/** Parses a whole entry file and verifies its checksum. The parts are views into `bytes`, not copies. */
export function decodeEntry(bytes: Uint8Array): EntryFile {
  const header = decodeHeader(bytes, bytes.length);
  const stored = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES).getUint32(CHECKSUM_AT);
  if (stored !== checksum(bytes)) throw corrupt('checksum mismatch');
  const view = (start: number, length: number) =>
    new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
  const keyStart = keyOffset(header);
  const dataStart = keyStart + header.keyBytes;
  return {
    expire: header.expire,
    stale: header.stale,
    formatId: view(HEADER_BYTES, header.formatIdBytes),
    compressorId: view(HEADER_BYTES + header.formatIdBytes, header.compressorIdBytes),
    key: view(keyStart, header.keyBytes),
    data: view(dataStart, header.dataBytes),
  };
}
