import { CacheError, type Compressor } from '@cache/core';
import { checkLimit, decompressError, describe, limitError, owned } from './errors.js';
import { NODE_MAX_OUTPUT, type NodeZlib, nodeZlib } from './node-zlib.js';
import { readZstdFrames, type ZstdFrame } from './zstd-frame.js';
import { loadZstdWasm, type ZstdWasm, zstdWasm } from './zstd-wasm.js';

/** Which code does the zstd work. */
export type ZstdImplementation = 'node' | 'wasm';

/** Options of {@link zstd} and {@link zstdSync}. */
export interface ZstdOptions {
  /**
   * Compression level: 1 (fast) to 22 (smallest), or negative for zstd's fast modes down to -131072
   * (`zstd --fast=N` is level -N). 0 is refused rather than silently meaning 3.
   * @default 3
   */
  readonly level?: number;
  /**
   * `'node'` uses node:zlib's zstd (Node 22.15+ and 23.8+, about 3x faster), `'wasm'` the WebAssembly build of
   * @bokuweb/zstd-wasm, `'auto'` node:zlib where the runtime has zstd in it, else WebAssembly.
   * @default 'auto'
   */
  readonly implementation?: ZstdImplementation | 'auto';
}

/** A zstd compressor, with what it was built with. */
export interface ZstdCompressor extends Compressor {
  readonly id: 'zstd';
  /** The level it compresses with. */
  readonly level: number;
  /** The implementation chosen. */
  readonly implementation: ZstdImplementation;
}

/** The zstd level when none is given, as in the zstd tool. */
export const DEFAULT_ZSTD_LEVEL = 3;
/** Lowest zstd level (`ZSTD_minCLevel()`). */
export const MIN_ZSTD_LEVEL = -131072;
/** Highest zstd level (`ZSTD_maxCLevel()`). */
export const MAX_ZSTD_LEVEL = 22;
/**
 * The WebAssembly heap cannot grow past 2 GiB and the binding does not check allocations, so the WebAssembly path
 * refuses inputs and outputs beyond these sizes instead of risking a failed allocation.
 */
const WASM_MAX_OUTPUT = 1024 * 1024 * 1024;
const WASM_MAX_INPUT = 512 * 1024 * 1024;

function resolve(options: ZstdOptions): {
  level: number;
  implementation: ZstdImplementation;
  zlib?: NodeZlib;
} {
  const level = options.level ?? DEFAULT_ZSTD_LEVEL;
  if (!Number.isInteger(level) || level < MIN_ZSTD_LEVEL || level > MAX_ZSTD_LEVEL || level === 0) {
    throw new CacheError(
      'INVALID_OPTIONS',
      `zstd level must be an integer from ${MIN_ZSTD_LEVEL} to ${MAX_ZSTD_LEVEL} other than 0, got ${level}`,
    );
  }
  const wanted = options.implementation ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'node' && wanted !== 'wasm') {
    throw new CacheError('INVALID_OPTIONS', `unknown zstd implementation "${String(wanted)}"`);
  }
  const zlib = wanted === 'wasm' ? undefined : nodeZlib();
  const hasNodeZstd =
    typeof zlib?.zstdCompressSync === 'function' && typeof zlib.zstdDecompressSync === 'function';
  if (wanted === 'node' && !hasNodeZstd) {
    throw new CacheError(
      'INVALID_OPTIONS',
      'zstd implementation "node" needs node:zlib with zstd (Node 22.15+)',
    );
  }
  return hasNodeZstd ? { level, implementation: 'node', zlib: zlib! } : { level, implementation: 'wasm' };
}

/**
 * Checks the frames and returns them, or throws DECOMPRESS, or DECOMPRESS_LIMIT when the output is sure to exceed
 * the limit (declared sizes, raw and RLE blocks), all without decompressing anything.
 */
function plan(bytes: Uint8Array, maxOutputBytes: number): ZstdFrame[] {
  checkLimit('zstd', maxOutputBytes);
  const frames = readZstdFrames(bytes);
  if (typeof frames === 'string') throw decompressError('zstd', frames);
  let least = 0;
  for (const frame of frames) {
    least += frame.contentSize ?? frame.minimum;
    if (least > maxOutputBytes) throw limitError('zstd', maxOutputBytes);
  }
  return frames;
}

/** zstd's `ZSTD_error_dstSize_tooSmall`, as the binding reports it in its message. */
const DESTINATION_TOO_SMALL = /code -70\b/;

function wasmDecompress(wasm: ZstdWasm, bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  const frames = plan(bytes, maxOutputBytes);
  if (bytes.length > WASM_MAX_INPUT)
    throw decompressError('zstd', 'input too large for the WebAssembly zstd');
  const budget = Math.min(maxOutputBytes, WASM_MAX_OUTPUT);
  const outputs: Uint8Array[] = [];
  let total = 0;
  for (const frame of frames) {
    if (frame.skippable) continue;
    const remaining = budget - total;
    // The binding allocates a declared size as it is, else the capacity given here: the block headers' bound,
    // cut to what the limit leaves. zstd never writes past the capacity, so memory stays within the limit.
    if ((frame.contentSize ?? frame.minimum) > remaining) throw limitError('zstd', maxOutputBytes);
    const capacity = frame.contentSize ?? Math.min(frame.bound, remaining);
    let out: Uint8Array;
    try {
      out = wasm.decompress(bytes.subarray(frame.start, frame.end), {
        defaultHeapSize: Math.max(1, capacity),
      });
    } catch (error) {
      if (capacity < frame.bound && DESTINATION_TOO_SMALL.test(describe(error))) {
        throw limitError('zstd', maxOutputBytes);
      }
      throw decompressError('zstd', `corrupt zstd data (${describe(error)})`, error);
    }
    if (frame.contentSize !== undefined && out.length !== frame.contentSize) {
      throw decompressError('zstd', 'zstd frame content size mismatch');
    }
    total += out.length;
    outputs.push(out);
  }
  if (outputs.length === 1) return outputs[0]!;
  const joined = new Uint8Array(total);
  let at = 0;
  for (const out of outputs) {
    joined.set(out, at);
    at += out.length;
  }
  return joined;
}

function nodeDecompress(zlib: NodeZlib, bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  plan(bytes, maxOutputBytes);
  let out: Uint8Array;
  try {
    out = zlib.zstdDecompressSync!(bytes, {
      maxOutputLength: Math.max(1, Math.min(maxOutputBytes, NODE_MAX_OUTPUT)),
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw limitError('zstd', maxOutputBytes);
    throw decompressError('zstd', `corrupt zstd data (${describe(error)})`, error);
  }
  if (out.length > maxOutputBytes) throw limitError('zstd', maxOutputBytes);
  return owned(out);
}

function build(
  level: number,
  implementation: ZstdImplementation,
  zlib: NodeZlib | undefined,
): ZstdCompressor {
  const compressError = (error: unknown): CacheError =>
    CacheError.wrap(error, 'COMPRESS', 'zstd compression failed');
  if (implementation === 'node') {
    const node = zlib!;
    const { ZSTD_c_compressionLevel, ZSTD_c_checksumFlag } = node.constants as Record<string, number>;
    const params: Record<number, number> = { [ZSTD_c_compressionLevel!]: level, [ZSTD_c_checksumFlag!]: 1 };
    return Object.freeze({
      id: 'zstd',
      level,
      implementation,
      compress(bytes: Uint8Array): Uint8Array {
        try {
          // the pledged size puts the content size in the frame header, so readers can allocate exactly
          return owned(node.zstdCompressSync!(bytes, { params, pledgedSrcSize: bytes.length }));
        } catch (error) {
          throw compressError(error);
        }
      },
      decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
        return nodeDecompress(node, bytes, maxOutputBytes);
      },
    });
  }
  const ready = (): ZstdWasm => {
    const wasm = zstdWasm();
    if (wasm === undefined) {
      throw new CacheError(
        'NOT_READY',
        'zstd: the WebAssembly module is not loaded yet: await initZstd() first',
      );
    }
    return wasm;
  };
  return Object.freeze({
    id: 'zstd',
    level,
    implementation,
    compress(bytes: Uint8Array): Uint8Array {
      const wasm = ready();
      if (bytes.length > WASM_MAX_INPUT) {
        throw new CacheError('COMPRESS', 'zstd: input too large for the WebAssembly zstd (512 MiB at most)');
      }
      let out: Uint8Array;
      try {
        out = wasm.compress(bytes, level);
      } catch (error) {
        throw compressError(error);
      }
      // Cheap (a few operations per 128 KiB): catches a module whose memory was swapped by a second init()
      const frames = readZstdFrames(out);
      if (typeof frames === 'string' || frames.length !== 1 || frames[0]!.contentSize !== bytes.length) {
        throw new CacheError(
          'COMPRESS',
          'zstd: the WebAssembly module wrote an invalid frame; did other code call init() of @bokuweb/zstd-wasm again?',
        );
      }
      return out;
    },
    decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
      return wasmDecompress(ready(), bytes, maxOutputBytes);
    },
  });
}

/**
 * Loads the WebAssembly zstd (once per process). Needed before a {@link zstdSync} compressor runs on the
 * WebAssembly path; {@link zstd} calls it for you. Rejects with `NOT_READY` when the module cannot be loaded.
 */
export async function initZstd(): Promise<void> {
  await loadZstdWasm();
}

/**
 * A zstd (RFC 8878) compressor, ready to use: `await zstd({ level: 3 })`. Output is standard zstd frames that the
 * `zstd` tool reads; `decompress` reads any frames without a dictionary, checks sizes before allocating and fails
 * with `DECOMPRESS_LIMIT` when they exceed `maxOutputBytes`, and with `DECOMPRESS` on corrupt or foreign bytes.
 */
export async function zstd(options: ZstdOptions = {}): Promise<ZstdCompressor> {
  const { level, implementation, zlib } = resolve(options);
  if (implementation === 'wasm') await loadZstdWasm();
  return build(level, implementation, zlib);
}

/**
 * The same compressor as {@link zstd}, built synchronously for code that cannot await (a constructor, a config
 * object). On the WebAssembly path its methods throw `NOT_READY` until {@link initZstd} has resolved.
 */
export function zstdSync(options: ZstdOptions = {}): ZstdCompressor {
  const { level, implementation, zlib } = resolve(options);
  return build(level, implementation, zlib);
}
