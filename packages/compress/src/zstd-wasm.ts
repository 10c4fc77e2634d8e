import { CacheError } from '@cache/core';
import { describe } from './errors.js';

/** The functions of @bokuweb/zstd-wasm this package calls. */
export interface ZstdWasm {
  compress(bytes: Uint8Array, level: number): Uint8Array;
  /** Allocates the frame's declared content size, or `defaultHeapSize` when the frame does not declare one. */
  decompress(bytes: Uint8Array, options: { defaultHeapSize: number }): Uint8Array;
}

interface ZstdWasmModule extends ZstdWasm {
  init(): Promise<void>;
}

let loaded: ZstdWasm | undefined;
let loading: Promise<ZstdWasm> | undefined;

/** The WebAssembly zstd once {@link loadZstdWasm} has finished, else `undefined`. */
export function zstdWasm(): ZstdWasm | undefined {
  return loaded;
}

/**
 * Loads and instantiates the WebAssembly zstd once per process (about 10-20 ms); later calls return the same
 * promise. A failed load is not cached, so it can be retried.
 */
export function loadZstdWasm(): Promise<ZstdWasm> {
  if (loaded !== undefined) return Promise.resolve(loaded);
  loading ??= (async () => {
    try {
      const namespace = (await import('@bokuweb/zstd-wasm')) as unknown as ZstdWasmModule & {
        default?: ZstdWasmModule;
      };
      // Node exposes the CommonJS build's named exports; some bundlers only its default export
      const module = typeof namespace.init === 'function' ? namespace : namespace.default!;
      await module.init();
      loaded = { compress: module.compress, decompress: module.decompress };
      return loaded;
    } catch (error) {
      loading = undefined;
      throw new CacheError('NOT_READY', `zstd: loading the WebAssembly module failed: ${describe(error)}`, {
        cause: error,
      });
    }
  })();
  return loading;
}
