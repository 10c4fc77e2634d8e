import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { zstd } from '../src/index.js';
import { expectSameBytes, jsonDocument } from './helpers.js';

interface BareZstd {
  init(): Promise<void>;
  compress(bytes: Uint8Array, level: number): Uint8Array;
  decompress(bytes: Uint8Array): Uint8Array;
}

// The same module instance this package loads (Node caches CommonJS modules by their real path).
const bare = createRequire(import.meta.url)('@bokuweb/zstd-wasm') as BareZstd;

// Its own file: it initialises the process-wide WebAssembly module in a set order.
describe('sharing @bokuweb/zstd-wasm with other code in the process', () => {
  it('reuses a module that other code initialised first', async () => {
    await bare.init();
    const document = jsonDocument(50_000);
    const compressor = await zstd({ implementation: 'wasm' });
    expectSameBytes(bare.decompress(compressor.compress(document)), document);
    expectSameBytes(compressor.decompress(bare.compress(document, 3), document.length), document);
  });

  it('keeps working, for both, when other code calls init() again afterwards', async () => {
    const compressor = await zstd({ implementation: 'wasm' });
    const document = jsonDocument(50_000);
    const packed = compressor.compress(document);
    expectSameBytes(compressor.decompress(packed, document.length), document);
    // Unguarded, this instantiates a second module whose memory the first one's functions then misread:
    // the same decompress returned 50 KB of zeros.
    await bare.init();
    await sleep(300); // the second instantiation completes asynchronously
    expectSameBytes(compressor.decompress(packed, document.length), document);
    expectSameBytes(compressor.decompress(compressor.compress(document), document.length), document);
    expectSameBytes(bare.decompress(bare.compress(document, 3)), document);
  });
});
