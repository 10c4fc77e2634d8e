import { checkLimit, decompressError, limitError } from './errors.js';
import { readZstdFrames, type ZstdFrame } from './zstd-frame.js';

/**
 * Checks the frames and returns them, or throws DECOMPRESS, or DECOMPRESS_LIMIT when the output is sure to exceed
 * the limit (declared sizes, raw and RLE blocks), all without decompressing anything.
 */
export function planZstd(bytes: Uint8Array, maxOutputBytes: number, dictionaryId = 0): ZstdFrame[] {
  checkLimit('zstd', maxOutputBytes);
  const frames = readZstdFrames(bytes, dictionaryId);
  if (typeof frames === 'string') throw decompressError('zstd', frames);
  let least = 0;
  for (const frame of frames) {
    least += frame.contentSize ?? frame.minimum;
    if (least > maxOutputBytes) throw limitError('zstd', maxOutputBytes);
  }
  return frames;
}
