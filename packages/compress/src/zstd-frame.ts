/**
 * Just enough of the zstd frame format (RFC 8878) to know, before decompressing, where each frame ends and how
 * much it produces: the frame header's declared content size when present, otherwise bounds from its block
 * headers (raw and RLE blocks state their size, a compressed block yields at most its maximum block size).
 * Walking block headers skips the compressed payloads, so it costs a few operations per 128 KiB of output.
 */

/** One frame found in the input. */
export interface ZstdFrame {
  /** Offset of the frame's first byte. */
  readonly start: number;
  /** Offset just past the frame. */
  readonly end: number;
  /** True for a skippable frame, which produces no output. */
  readonly skippable: boolean;
  /** Declared content size, or `undefined` when the header does not state it. */
  readonly contentSize: number | undefined;
  /** Upper bound of the frame's output, from its block headers. */
  readonly bound: number;
  /** Lower bound of the frame's output: what its raw and RLE blocks alone produce. */
  readonly minimum: number;
  /** The dictionary the frame was compressed with, 0 for none. */
  readonly dictionaryId: number;
}

const MAX_BLOCK = 128 * 1024;
const DICTIONARY_ID_BYTES = [0, 1, 2, 4] as const;
const CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const;

function readLE(bytes: Uint8Array, at: number, length: number): number {
  let value = 0;
  for (let i = length - 1; i >= 0; i--) value = value * 256 + bytes[at + i]!;
  return value;
}

/** True when `bytes` starts like a zstd frame (magic `28 b5 2f fd`) or a skippable frame. */
export function startsLikeZstd(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return true;
  return (bytes[0]! & 0xf0) === 0x50 && bytes[1] === 0x2a && bytes[2] === 0x4d && bytes[3] === 0x18;
}

/**
 * Splits `bytes` into frames. Returns the frames, or a description of the first problem: not zstd, truncated,
 * reserved bits, a dictionary other than `dictionaryId` (0: none), or a declared size its blocks cannot produce.
 */
export function readZstdFrames(bytes: Uint8Array, dictionaryId = 0): ZstdFrame[] | string {
  const frames: ZstdFrame[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const frame = readFrame(bytes, pos, dictionaryId);
    if (typeof frame === 'string') return frame;
    frames.push(frame);
    pos = frame.end;
  }
  if (frames.every((frame) => frame.skippable)) return 'no zstd frame in the input';
  return frames;
}

function readFrame(bytes: Uint8Array, start: number, dictionaryId: number): ZstdFrame | string {
  const end = bytes.length;
  if (!startsLikeZstd(bytes.subarray(start, start + 4))) {
    return start === 0 ? 'not zstd data (no 28 b5 2f fd magic number)' : 'garbage after the last zstd frame';
  }
  if (bytes[start] !== 0x28) {
    if (start + 8 > end) return 'truncated skippable frame';
    const frameEnd = start + 8 + readLE(bytes, start + 4, 4);
    if (frameEnd > end) return 'truncated skippable frame';
    return { start, end: frameEnd, skippable: true, contentSize: 0, bound: 0, minimum: 0, dictionaryId: 0 };
  }
  let pos = start + 4;
  if (pos >= end) return 'truncated zstd frame header';
  const descriptor = bytes[pos++]!;
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  if ((descriptor & 0x08) !== 0) return 'reserved bit set in a zstd frame header';
  let windowSize = 0;
  if (!singleSegment) {
    if (pos >= end) return 'truncated zstd frame header';
    const windowDescriptor = bytes[pos++]!;
    const base = 2 ** (10 + (windowDescriptor >> 3));
    windowSize = base + (base / 8) * (windowDescriptor & 7);
  }
  const dictionaryIdBytes = DICTIONARY_ID_BYTES[descriptor & 3]!;
  const contentSizeBytes =
    contentSizeFlag === 0 ? (singleSegment ? 1 : 0) : CONTENT_SIZE_BYTES[contentSizeFlag]!;
  if (pos + dictionaryIdBytes + contentSizeBytes > end) return 'truncated zstd frame header';
  const frameDictionary = readLE(bytes, pos, dictionaryIdBytes);
  if (frameDictionary !== 0 && frameDictionary !== dictionaryId) {
    return dictionaryId === 0
      ? `zstd frame needs dictionary ${frameDictionary}, and this compressor has none`
      : `zstd frame needs dictionary ${frameDictionary}, and this compressor has dictionary ${dictionaryId}`;
  }
  pos += dictionaryIdBytes;
  let contentSize: number | undefined;
  if (contentSizeBytes > 0) {
    contentSize = readLE(bytes, pos, contentSizeBytes) + (contentSizeBytes === 2 ? 256 : 0);
    pos += contentSizeBytes;
  }
  if (singleSegment) windowSize = contentSize!;
  const maxBlock = Math.min(windowSize, MAX_BLOCK);

  let bound = 0;
  let minimum = 0;
  for (;;) {
    if (pos + 3 > end) return 'truncated zstd block';
    const header = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16);
    pos += 3;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return 'reserved zstd block type';
    if (type === 2 && size > maxBlock) return 'zstd block larger than its maximum size';
    pos += type === 1 ? 1 : size;
    if (pos > end) return 'truncated zstd block';
    bound += type === 2 ? maxBlock : size;
    if (type !== 2) minimum += size;
    if ((header & 1) !== 0) break;
  }
  if (hasChecksum) {
    pos += 4;
    if (pos > end) return 'truncated zstd frame checksum';
  }
  if (contentSize !== undefined && (contentSize > bound || contentSize < minimum)) {
    return 'zstd frame declares a content size its blocks cannot produce';
  }
  return { start, end: pos, skippable: false, contentSize, bound, minimum, dictionaryId: frameDictionary };
}
