import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type Compressor, DEFAULT_MAX_DECOMPRESSED_BYTES } from '@cache/core';
import { jsonDocuments } from '../data/documents.js';
import type { Case, Contender, Prepared, Suite } from '../harness/types.js';

/** Distinct documents per size, walked in turn: a power of two, so ops pick one with a mask. */
const DOCS = 8;
const MASK = DOCS - 1;
const SIZES = [
  { label: '1 KB', bytes: 1024 },
  { label: '10 KB', bytes: 10 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
] as const;

type Direction = 'compress' | 'decompress';

interface Codec {
  compress(bytes: Uint8Array): Uint8Array;
  decompress(bytes: Uint8Array): Uint8Array;
}

/** A compressor measured here; `load` resolves the library. */
interface Entry {
  readonly name: string;
  readonly role: Contender['role'];
  readonly note: string;
  load(): Promise<Codec>;
}

/**
 * fflate and @bokuweb/zstd-wasm are dependencies of @cache/compress, not of the bench: resolve them from there, so
 * the bare library rows use the very copies ours wraps.
 */
async function throughCompress<T>(name: string): Promise<T> {
  const require = createRequire(import.meta.resolve('@cache/compress'));
  return import(pathToFileURL(require.resolve(name)).href) as Promise<T>;
}

function fromCompressor(compressor: Compressor): Codec {
  return {
    compress: (bytes) => compressor.compress(bytes),
    decompress: (bytes) => compressor.decompress(bytes, DEFAULT_MAX_DECOMPRESSED_BYTES),
  };
}

const ENTRIES: readonly Entry[] = [
  {
    name: '@cache/compress gzip (node:zlib)',
    role: 'ours',
    note: '`gzip()` on Node: node:zlib level 6; decompress bounded by `maxOutputLength` (64 MiB), trailing bytes refused.',
    load: async () => fromCompressor((await import('@cache/compress')).gzip({ implementation: 'node' })),
  },
  {
    name: '@cache/compress gzip (fflate)',
    role: 'ours',
    note:
      "`gzip({ implementation: 'fflate' })`: the portable path, level 6; decompress streams with a running byte " +
      'count and checks CRC-32 and length.',
    load: async () => fromCompressor((await import('@cache/compress')).gzip({ implementation: 'fflate' })),
  },
  {
    name: '@cache/compress zstd (wasm)',
    role: 'ours',
    note: "`await zstd({ implementation: 'wasm' })`: level 3; decompress sizes every frame from its headers first.",
    load: async () =>
      fromCompressor(await (await import('@cache/compress')).zstd({ implementation: 'wasm' })),
  },
  {
    name: 'node:zlib gzip',
    role: 'reference',
    note: 'bare `gzipSync(bytes, { level: 6 })` / `gunzipSync(bytes)`: the bar.',
    load: async () => ({
      compress: (bytes) => gzipSync(bytes, { level: 6 }),
      decompress: (bytes) => gunzipSync(bytes),
    }),
  },
  {
    name: 'fflate 0.8 gzip',
    role: 'variant',
    note: 'bare `gzipSync(bytes, { level: 6 })` / `gunzipSync(bytes)` (unbounded, no CRC check): what ours adds to it.',
    load: async () => {
      const fflate = await throughCompress<{
        gzipSync(bytes: Uint8Array, options: { level: 6 }): Uint8Array;
        gunzipSync(bytes: Uint8Array): Uint8Array;
      }>('fflate');
      return {
        compress: (bytes) => fflate.gzipSync(bytes, { level: 6 }),
        decompress: (bytes) => fflate.gunzipSync(bytes),
      };
    },
  },
  {
    name: '@bokuweb/zstd-wasm 0.0.27',
    role: 'variant',
    note: 'bare `compress(bytes, 3)` / `decompress(bytes)` (allocates whatever the frame header declares).',
    load: async () => {
      const zstd = await throughCompress<{
        init(): Promise<void>;
        compress(bytes: Uint8Array, level: number): Uint8Array;
        decompress(bytes: Uint8Array): Uint8Array;
      }>('@bokuweb/zstd-wasm');
      await zstd.init();
      return { compress: (bytes) => zstd.compress(bytes, 3), decompress: (bytes) => zstd.decompress(bytes) };
    },
  },
];

function contender(entry: Entry, direction: Direction, inputs: readonly Uint8Array[]): Contender {
  return {
    name: entry.name,
    role: entry.role,
    note: entry.note,
    async setup(): Promise<Prepared> {
      const codec = await entry.load();
      if (direction === 'compress')
        return { async: false, op: (i) => codec.compress(inputs[i & MASK] as Uint8Array) };
      const packed = inputs.map((input) => codec.compress(input));
      return { async: false, op: (i) => codec.decompress(packed[i & MASK] as Uint8Array) };
    },
  };
}

/** Sizes and ratios per compressor and input size, filled in when the cases are built. */
const sizeLines: string[] = [];

async function compressCases(): Promise<Case[]> {
  const encoder = new TextEncoder();
  sizeLines.length = 0;
  sizeLines.push(`| input | ${ENTRIES.map((e) => e.name).join(' | ')} |`);
  sizeLines.push(`|---|${ENTRIES.map(() => '--:').join('|')}|`);
  const cases: Case[] = [];
  for (const { label, bytes } of SIZES) {
    const inputs = jsonDocuments(DOCS, bytes).map((doc) => encoder.encode(JSON.stringify(doc)));
    const total = inputs.reduce((sum, input) => sum + input.length, 0);
    const cells: string[] = [];
    for (const entry of ENTRIES) {
      const codec = await entry.load();
      const packed = inputs.reduce((sum, input) => sum + codec.compress(input).length, 0);
      cells.push(`${Math.round(packed / DOCS).toLocaleString('en-US')} B, ×${(total / packed).toFixed(2)}`);
    }
    const mean = Math.round(total / DOCS).toLocaleString('en-US');
    sizeLines.push(`| ${label} (${mean} B) | ${cells.join(' | ')} |`);
    for (const direction of ['compress', 'decompress'] as const) {
      cases.push({
        name: `${direction} ${label}`,
        timing: { kind: 'batched' },
        expect: 'defined',
        contenders: ENTRIES.map((entry) => contender(entry, direction, inputs)),
      });
    }
  }
  return cases;
}

/** Compressors: gzip (node:zlib and fflate) and zstd (WebAssembly), ours against the bare libraries. */
export const compressSuite: Suite = {
  id: 'compress',
  title: 'compressors, compress and decompress',
  get description(): string {
    return [
      `The JSON text (UTF-8) of ${DOCS} documents per size (\`src/data/documents.ts\`), walked in turn. ` +
        'Throughput in MB/s is ops/s × the input size below (for decompress too: MB of output per second). ' +
        'Mean compressed size and ratio (input ÷ output) per document:',
      '',
      ...sizeLines,
    ].join('\n');
  },
  cases: compressCases,
};
