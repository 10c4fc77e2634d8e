/**
 * The part of `node:zlib` this package uses, typed here so that it needs no Node types and never imports
 * `node:zlib` statically: bundlers for browsers and edge runtimes then have nothing to resolve.
 */
export interface NodeZlib {
  gzipSync(input: Uint8Array, options: { level: number }): Uint8Array;
  gunzipSync(
    input: Uint8Array,
    options: { maxOutputLength: number; info: true },
  ): { buffer: Uint8Array; engine: { bytesWritten: number } };
  /** Node 22.15+ and 23.8+. */
  zstdCompressSync?(
    input: Uint8Array,
    options: { params: Record<number, number>; pledgedSrcSize?: number },
  ): Uint8Array;
  /** Node 22.15+ and 23.8+. */
  zstdDecompressSync?(input: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
  readonly constants: Readonly<Record<string, number>>;
}

interface ProcessWithBuiltins {
  getBuiltinModule?(id: string): unknown;
}

let cached: NodeZlib | null | undefined;

/**
 * `node:zlib` through `process.getBuiltinModule` (Node 20.16+, 22.3+; Deno, Bun and workers with Node
 * compatibility have it too), or `undefined` where the runtime has no such module.
 */
export function nodeZlib(): NodeZlib | undefined {
  if (cached === undefined) {
    const process = (globalThis as { process?: ProcessWithBuiltins }).process;
    let zlib: unknown;
    try {
      zlib = process?.getBuiltinModule?.('node:zlib');
    } catch {
      zlib = undefined;
    }
    cached =
      zlib !== undefined && typeof (zlib as NodeZlib).gunzipSync === 'function' ? (zlib as NodeZlib) : null;
  }
  return cached ?? undefined;
}

/** Largest `maxOutputLength` passed to node:zlib: 2 GiB - 1, valid on every Node version. */
export const NODE_MAX_OUTPUT = 0x7fff_ffff;
