/** Smallest gzip member: 10-byte header, 2-byte empty deflate stream, 8-byte trailer. */
const MIN_MEMBER = 20;

/**
 * Checks the fixed start of a gzip member (RFC 1952 §2.3) so that both implementations refuse foreign bytes the
 * same way: magic `1f 8b`, method 8 (deflate), no reserved flag bits. Returns the problem, or `undefined`.
 */
export function gzipHeaderProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b)
    return 'not gzip data (no 1f 8b magic number)';
  if (bytes.length < MIN_MEMBER) return 'truncated gzip data';
  if (bytes[2] !== 8) return `unsupported gzip compression method ${bytes[2]}`;
  if ((bytes[3]! & 0xe0) !== 0) return 'reserved gzip header flags are set';
  return undefined;
}

/** Reads the little-endian 32-bit number at `at`. */
export function readUint32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}
