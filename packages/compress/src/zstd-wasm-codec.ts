import { CacheError } from '@cache/core';
import { decompressError, describe, limitError } from './errors.js';
import type { ZstdDictionary } from './zstd-dictionary.js';
import { readZstdFrames } from './zstd-frame.js';
import { planZstd } from './zstd-plan.js';
import type { ZstdContext, ZstdWasm } from './zstd-wasm.js';

/**
 * The WebAssembly heap cannot grow past 2 GiB and the binding does not check allocations, so the WebAssembly path
 * refuses inputs and outputs beyond these sizes instead of risking a failed allocation.
 */
const WASM_MAX_OUTPUT = 1024 * 1024 * 1024;
const WASM_MAX_INPUT = 512 * 1024 * 1024;

/** zstd's `ZSTD_error_dstSize_tooSmall`, as the binding reports it in its message. */
const DESTINATION_TOO_SMALL = /code -70\b/;

/** Compression and decompression on the WebAssembly zstd, with an optional dictionary. */
export class WasmZstdCodec {
  readonly #wasm: ZstdWasm;
  readonly #level: number;
  readonly #dictionary: ZstdDictionary | undefined;
  #compressContext: ZstdContext | undefined;
  #decompressContext: ZstdContext | undefined;

  constructor(wasm: ZstdWasm, level: number, dictionary: ZstdDictionary | undefined) {
    this.#wasm = wasm;
    this.#level = level;
    this.#dictionary = dictionary;
  }

  compress(bytes: Uint8Array): Uint8Array {
    if (bytes.length > WASM_MAX_INPUT) {
      throw new CacheError('COMPRESS', 'zstd: input too large for the WebAssembly zstd (512 MiB at most)');
    }
    const dictionary = this.#dictionary;
    let out: Uint8Array;
    try {
      if (dictionary === undefined) {
        out = this.#wasm.compress(bytes, this.#level);
      } else {
        this.#compressContext ??= this.#wasm.createCCtx();
        out = this.#wasm.compressUsingDict(this.#compressContext, bytes, dictionary.bytes, this.#level);
      }
    } catch (error) {
      throw CacheError.wrap(error, 'COMPRESS', 'zstd compression failed');
    }
    // Cheap (a few operations per 128 KiB): catches a module whose memory was swapped by a second init()
    const frames = readZstdFrames(out, dictionary?.id);
    if (typeof frames === 'string' || frames.length !== 1 || frames[0]!.contentSize !== bytes.length) {
      throw new CacheError(
        'COMPRESS',
        'zstd: the WebAssembly module wrote an invalid frame; did other code call init() of @bokuweb/zstd-wasm again?',
      );
    }
    return out;
  }

  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
    const frames = planZstd(bytes, maxOutputBytes, this.#dictionary?.id);
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
        out = this.#decompressFrame(bytes.subarray(frame.start, frame.end), frame.dictionaryId, capacity);
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
    return outputs.length === 1 ? outputs[0]! : concat(outputs, total);
  }

  #decompressFrame(frame: Uint8Array, dictionaryId: number, capacity: number): Uint8Array {
    const options = { defaultHeapSize: Math.max(1, capacity) };
    if (dictionaryId === 0 || this.#dictionary === undefined) return this.#wasm.decompress(frame, options);
    this.#decompressContext ??= this.#wasm.createDCtx();
    return this.#wasm.decompressUsingDict(this.#decompressContext, frame, this.#dictionary.bytes, options);
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
