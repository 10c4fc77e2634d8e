import { decompressError, describe, limitError, owned } from './errors.js';
import { NODE_MAX_OUTPUT, type NodeZlib } from './node-zlib.js';

/** Compresses into one gzip member with node:zlib. */
export function nodeGzip(zlib: NodeZlib, bytes: Uint8Array, level: number): Uint8Array {
  return owned(zlib.gzipSync(bytes, { level }));
}

/**
 * Decompresses gzip with node:zlib, which stops as soon as the output passes `maxOutputLength` and checks each
 * member's CRC-32 and length. Bytes after the last member are refused.
 */
export function nodeGunzip(zlib: NodeZlib, bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  let out: Uint8Array;
  let consumed: number;
  try {
    const maxOutputLength = Math.max(1, Math.min(maxOutputBytes, NODE_MAX_OUTPUT));
    const result = zlib.gunzipSync(bytes, { maxOutputLength, info: true });
    out = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw limitError('gzip', maxOutputBytes);
    throw decompressError('gzip', `corrupt or truncated gzip data (${describe(error)})`, error);
  }
  if (out.length > maxOutputBytes) throw limitError('gzip', maxOutputBytes);
  // zlib stops quietly at bytes that do not start another member; fflate refuses them, and so do we
  if (consumed !== bytes.length) throw decompressError('gzip', 'garbage after the last gzip member');
  return owned(out);
}
