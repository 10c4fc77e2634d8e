/** Hand-built zstd frames, for shapes our encoder never writes: no declared size, RLE bombs, skippable frames. */

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function blockHeader(last: boolean, type: 0 | 1 | 2, size: number): number[] {
  const header = (last ? 1 : 0) | (type << 1) | (size << 3);
  return [header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff];
}

/** A frame of raw blocks that does not declare its content size (window 128 KiB). */
export function rawFrame(content: Uint8Array, blockSize = 64 * 1024): Uint8Array {
  const blocks = Math.max(1, Math.ceil(content.length / blockSize));
  const out = new Uint8Array(6 + blocks * 3 + content.length);
  out.set([...MAGIC, 0x00, 0x38]); // no content size, no checksum; window descriptor 2^(10+7)
  let pos = 6;
  for (let i = 0; i < blocks; i++) {
    const block = content.subarray(i * blockSize, (i + 1) * blockSize);
    out.set(blockHeader(i === blocks - 1, 0, block.length), pos);
    out.set(block, pos + 3);
    pos += 3 + block.length;
  }
  return out;
}

/**
 * A frame of `blocks` RLE blocks of 128 KiB of `byte` each: `blocks * 128 KiB` of output from `blocks * 4 + 6`
 * bytes. `declaredSize` puts a content size in the header (8 bytes), true or not.
 */
export function rleFrame(blocks: number, byte = 0, declaredSize?: number): Uint8Array {
  const header =
    declaredSize === undefined ? [...MAGIC, 0x00, 0x38] : [...MAGIC, 0xc0, 0x38, ...uint64LE(declaredSize)];
  const out = new Uint8Array(header.length + blocks * 4);
  out.set(header);
  let at = header.length;
  for (let i = 0; i < blocks; i++) {
    out.set([...blockHeader(i === blocks - 1, 1, 128 * 1024), byte], at);
    at += 4;
  }
  return out;
}

/** A skippable frame carrying `payload`. */
export function skippableFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  return new Uint8Array([
    0x50,
    0x2a,
    0x4d,
    0x18,
    n & 0xff,
    (n >> 8) & 0xff,
    (n >> 16) & 0xff,
    n >>> 24,
    ...payload,
  ]);
}

function uint64LE(value: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(value % 256);
    value = Math.floor(value / 256);
  }
  return out;
}
