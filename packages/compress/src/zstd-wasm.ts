import { CacheError } from '@cache/core';
import { describe } from './errors.js';

/** A zstd context inside the WebAssembly heap (a pointer). */
export type ZstdContext = number;

/** The functions of @bokuweb/zstd-wasm this package calls. */
export interface ZstdWasm {
  compress(bytes: Uint8Array, level: number): Uint8Array;
  /** Allocates the frame's declared content size, or `defaultHeapSize` when the frame does not declare one. */
  decompress(bytes: Uint8Array, options: { defaultHeapSize: number }): Uint8Array;
  createCCtx(): ZstdContext;
  createDCtx(): ZstdContext;
  compressUsingDict(
    context: ZstdContext,
    bytes: Uint8Array,
    dictionary: Uint8Array,
    level: number,
  ): Uint8Array;
  /** Allocates like {@link ZstdWasm.decompress}. */
  decompressUsingDict(
    context: ZstdContext,
    bytes: Uint8Array,
    dictionary: Uint8Array,
    options: { defaultHeapSize: number },
  ): Uint8Array;
}

interface ZstdWasmModule extends ZstdWasm {
  init(): Promise<void>;
}

let loaded: ZstdWasm | undefined;

interface NodeModuleApi {
  createRequire(from: string): { (id: string): unknown; resolve(id: string): string };
}

/**
 * @bokuweb/zstd-wasm keeps one Emscripten module per process, and a second `init()` (by any code) instantiates a
 * second copy while the functions stay bound to the first: results are then read from the wrong memory (zeros
 * of the right length). On Node, turn later `init()` calls into no-ops: the module is already initialised, so
 * theirs resolves and everyone keeps working on the one instance. Elsewhere, `compress` still checks its frames.
 */
function preventSecondInit(): void {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  try {
    const moduleApi = process?.getBuiltinModule?.('node:module') as NodeModuleApi | undefined;
    if (moduleApi === undefined) return;
    const require = moduleApi.createRequire((import.meta as unknown as { url: string }).url);
    const entry = require.resolve('@bokuweb/zstd-wasm');
    const emscripten = require(entry.replace(/index\.node\.js$/, 'module.js')) as {
      Module?: { init?: unknown };
    };
    if (typeof emscripten.Module?.init === 'function') emscripten.Module.init = () => undefined;
  } catch {
    // another layout than the one we know: no guard, the frame checks remain
  }
}

function initialised(module: ZstdWasm): boolean {
  try {
    module.compress(new Uint8Array(1), 1);
    return true;
  } catch {
    return false;
  }
}
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
      // A second init() builds a second instance while the functions stay bound to the first: every later call
      // then works on the wrong memory. So reuse a module that other code has already initialised.
      if (!initialised(module)) await module.init();
      preventSecondInit();
      loaded = {
        compress: module.compress,
        decompress: module.decompress,
        createCCtx: module.createCCtx,
        createDCtx: module.createDCtx,
        compressUsingDict: module.compressUsingDict,
        decompressUsingDict: module.decompressUsingDict,
      };
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
