import { CacheError, type Compressor } from '@cache/core';
import { type NodeZlib, nodeZlib } from './node-zlib.js';
import { type ZstdDictionary, zstdDictionary } from './zstd-dictionary.js';
import { NodeZstdCodec } from './zstd-node-codec.js';
import { loadZstdWasm, zstdWasm } from './zstd-wasm.js';
import { WasmZstdCodec } from './zstd-wasm-codec.js';

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
  /**
   * A dictionary trained on typical values (`zstd --train samples/* -o dict`), which makes small values
   * compress about twice as well. Every reader needs the same dictionary: frames name its ID, and a reader
   * without it fails with `DECOMPRESS`. Runs on the WebAssembly implementation.
   * @default undefined (no dictionary)
   */
  readonly dictionary?: Uint8Array;
}

/** A zstd compressor, with what it was built with. */
export interface ZstdCompressor extends Compressor {
  /** `'zstd'`, or `'zstd:dict-<ID>'` with a dictionary, since only readers with that dictionary read its frames. */
  readonly id: string;
  /** The level it compresses with. */
  readonly level: number;
  /** The implementation chosen. */
  readonly implementation: ZstdImplementation;
  /** The ID of its dictionary, when it has one. */
  readonly dictionaryId: number | undefined;
}

/** The zstd level when none is given, as in the zstd tool. */
export const DEFAULT_ZSTD_LEVEL = 3;
/** Lowest zstd level (`ZSTD_minCLevel()`). */
export const MIN_ZSTD_LEVEL = -131072;
/** Highest zstd level (`ZSTD_maxCLevel()`). */
export const MAX_ZSTD_LEVEL = 22;

interface Resolved {
  readonly level: number;
  readonly implementation: ZstdImplementation;
  readonly zlib: NodeZlib | undefined;
  readonly dictionary: ZstdDictionary | undefined;
}

function resolve(options: ZstdOptions): Resolved {
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
  const dictionary = options.dictionary === undefined ? undefined : zstdDictionary(options.dictionary);
  if (wanted === 'node' && dictionary !== undefined) {
    throw new CacheError('INVALID_OPTIONS', 'zstd dictionaries run on the "wasm" implementation only');
  }
  const zlib = wanted === 'wasm' || dictionary !== undefined ? undefined : nodeZlib();
  const hasNodeZstd =
    typeof zlib?.zstdCompressSync === 'function' && typeof zlib.zstdDecompressSync === 'function';
  if (wanted === 'node' && !hasNodeZstd) {
    throw new CacheError(
      'INVALID_OPTIONS',
      'zstd implementation "node" needs node:zlib with zstd (Node 22.15+)',
    );
  }
  return {
    level,
    implementation: hasNodeZstd ? 'node' : 'wasm',
    zlib: hasNodeZstd ? zlib : undefined,
    dictionary,
  };
}

function build({ level, implementation, zlib, dictionary }: Resolved): ZstdCompressor {
  const id = dictionary === undefined ? 'zstd' : `zstd:dict-${dictionary.id}`;
  const dictionaryId = dictionary?.id;
  if (zlib !== undefined) {
    const codec = new NodeZstdCodec(zlib, level);
    return Object.freeze({
      id,
      level,
      implementation,
      dictionaryId,
      compress: (bytes: Uint8Array) => codec.compress(bytes),
      decompress: (bytes: Uint8Array, maxOutputBytes: number) => codec.decompress(bytes, maxOutputBytes),
    });
  }
  let codec: WasmZstdCodec | undefined;
  const ready = (): WasmZstdCodec => {
    if (codec !== undefined) return codec;
    const wasm = zstdWasm();
    if (wasm === undefined) {
      throw new CacheError(
        'NOT_READY',
        'zstd: the WebAssembly module is not loaded yet: await initZstd() first',
      );
    }
    codec = new WasmZstdCodec(wasm, level, dictionary);
    return codec;
  };
  return Object.freeze({
    id,
    level,
    implementation,
    dictionaryId,
    compress: (bytes: Uint8Array) => ready().compress(bytes),
    decompress: (bytes: Uint8Array, maxOutputBytes: number) => ready().decompress(bytes, maxOutputBytes),
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
 * `zstd` tool reads; `decompress` reads any frames (with this compressor's dictionary, if any), checks sizes before
 * allocating and fails with `DECOMPRESS_LIMIT` when they exceed `maxOutputBytes`, and with `DECOMPRESS` on corrupt
 * or foreign bytes.
 */
export async function zstd(options: ZstdOptions = {}): Promise<ZstdCompressor> {
  const resolved = resolve(options);
  if (resolved.implementation === 'wasm') await loadZstdWasm();
  return build(resolved);
}

/**
 * The same compressor as {@link zstd}, built synchronously for code that cannot await (a constructor, a config
 * object). On the WebAssembly path its methods throw `NOT_READY` until {@link initZstd} has resolved.
 */
export function zstdSync(options: ZstdOptions = {}): ZstdCompressor {
  return build(resolve(options));
}
