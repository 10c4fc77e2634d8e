import { Gunzip, gzipSync } from 'fflate';
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
 * Decompresses gzip (single or multi-member) with fflate's streaming inflater, counting output as it comes and
 * stopping at `maxOutputBytes`. Input is fed whole when even the densest deflate stream could not exceed the
 * limit, otherwise in steps, so a bomb costs at most the limit plus one step. fflate checks neither CRC nor
 * length: each member's trailer is verified here.
 */
export function fflateGunzip(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
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
