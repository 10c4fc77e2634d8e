import { Gunzip, gzipSync, inflateSync } from 'fflate';
import { crc32 } from './crc32.js';
import { decompressError, limitError } from './errors.js';
import { readUint32LE } from './gzip-format.js';

/** Deflate's largest expansion: a 2-bit length/distance pair yields 258 bytes, so one input byte at most 1032. */
const MAX_DEFLATE_RATIO = 1032;
/** Input fed to fflate per step when the output could exceed the limit: at most ~16.5 MiB of output per step. */
const STEP = 16 * 1024;

/** Compresses into one gzip member with fflate; the modification time is 0, so equal input gives equal bytes. */
export function fflateGzip(bytes: Uint8Array, level: number): Uint8Array {
  return gzipSync(bytes, { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9, mtime: 0 });
}

/**
 * Decompresses gzip with fflate, within `maxOutputBytes`, checking what fflate does not: each member's CRC-32
 * and length. A single member small enough that even the densest deflate stream stays within the limit inflates
 * in one call into a buffer of its stated size; anything else streams.
 */
export function fflateGunzip(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  return singleMemberGunzip(bytes, maxOutputBytes) ?? streamingGunzip(bytes, maxOutputBytes);
}

/** Offset of the deflate data after the member header at 0 (RFC 1952 §2.3), or undefined past `end`. */
function headerLength(bytes: Uint8Array, end: number): number | undefined {
  const flags = bytes[3]!;
  let at = 10;
  if (flags & 4) at += 2 + (bytes[10]! | (bytes[11]! << 8)); // FEXTRA
  for (const flag of [8, 16]) {
    // FNAME, FCOMMENT: zero-terminated
    if (flags & flag) {
      const zero = bytes.indexOf(0, at);
      if (zero === -1) return undefined;
      at = zero + 1;
    }
  }
  if (flags & 2) at += 2; // FHCRC
  return at <= end ? at : undefined;
}

/**
 * The one-call path, or undefined when the input does not qualify: one member (no second `1f 8b 08` after the
 * header), a stated size within the limit and within what the deflate data could produce, and compressed data
 * small enough that decoding it is bounded by the limit too. fflate then writes into a buffer of the stated
 * size, never past it; a stream that holds more or less than stated fails the length or CRC check.
 */
function singleMemberGunzip(bytes: Uint8Array, maxOutputBytes: number): Uint8Array | undefined {
  const end = bytes.length - 8;
  if (bytes.length > Math.floor(maxOutputBytes / MAX_DEFLATE_RATIO)) return undefined;
  const start = headerLength(bytes, end);
  if (start === undefined) return undefined;
  for (let at = bytes.indexOf(0x1f, start); at !== -1 && at < end; at = bytes.indexOf(0x1f, at + 1)) {
    if (bytes[at + 1] === 0x8b && bytes[at + 2] === 8) return undefined;
  }
  const size = readUint32LE(bytes, end + 4);
  if (size > maxOutputBytes || size > (end - start) * MAX_DEFLATE_RATIO) return undefined;
  let out: Uint8Array;
  try {
    out = inflateSync(bytes.subarray(start, end), { out: new Uint8Array(size) });
  } catch (error) {
    throw decompressError(
      'gzip',
      `corrupt or truncated gzip data (${error instanceof Error ? error.message : error})`,
      error,
    );
  }
  if (out.length !== size) throw decompressError('gzip', 'gzip length mismatch');
  if (crc32(out) !== readUint32LE(bytes, end)) throw decompressError('gzip', 'gzip CRC-32 mismatch');
  return out;
}

/**
 * Streams through fflate's Gunzip (single or multi-member), counting output as it comes and stopping at
 * `maxOutputBytes`. Input is fed whole when even the densest deflate stream could not exceed the limit,
 * otherwise in steps, so a bomb costs at most the limit plus one step.
 */
function streamingGunzip(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let memberStart = 0; // output offset where the current member starts
  let memberCrc = 0;
  let failure: Error | undefined;

  const verifyTrailer = (trailerAt: number): void => {
    if (trailerAt < 0 || trailerAt + 8 > bytes.length)
      throw decompressError('gzip', 'truncated gzip trailer');
    if (readUint32LE(bytes, trailerAt) !== memberCrc) throw decompressError('gzip', 'gzip CRC-32 mismatch');
    if (readUint32LE(bytes, trailerAt + 4) !== (total - memberStart) >>> 0) {
      throw decompressError('gzip', 'gzip length mismatch');
    }
  };

  const gunzip = new Gunzip((chunk) => {
    if (failure !== undefined || chunk.length === 0) return;
    total += chunk.length;
    if (total > maxOutputBytes) {
      failure = limitError('gzip', maxOutputBytes);
      throw failure;
    }
    memberCrc = crc32(chunk, memberCrc);
    chunks.push(chunk);
  });
  gunzip.onmember = (offset) => {
    // a new member starts at `offset`; the previous one's trailer is the 8 bytes before it
    verifyTrailer(offset - 8);
    memberStart = total;
    memberCrc = 0;
  };

  try {
    if (bytes.length <= Math.floor(maxOutputBytes / MAX_DEFLATE_RATIO)) {
      gunzip.push(bytes, true);
    } else {
      for (let at = 0; at < bytes.length; at += STEP) {
        const next = Math.min(at + STEP, bytes.length);
        gunzip.push(bytes.subarray(at, next), next === bytes.length);
      }
    }
    verifyTrailer(bytes.length - 8);
  } catch (error) {
    if (failure !== undefined) throw failure;
    if (error instanceof Error && error.name === 'CacheError') throw error;
    throw decompressError(
      'gzip',
      `corrupt or truncated gzip data (${error instanceof Error ? error.message : error})`,
      error,
    );
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
