import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ZstdCompressor, zstd, zstdSync } from '../src/index.js';
import { concatBytes, expectCacheError, expectSameBytes, sampleDocument } from './helpers.js';

/**
 * A 4 KB dictionary trained by the zstd tool (1.5.4) on 1000 samples:
 * `zstd --train -q --maxdict=4096 samples/* -o documents.zdict`, sample i being `sampleDocument(i)`.
 * The tests below compress samples 5000 and up, which it was not trained on.
 */
const dictionary = new Uint8Array(readFileSync(new URL('./fixtures/documents.zdict', import.meta.url)));
const DICTIONARY_ID = 0x1df7b79d;
const unseen = Array.from({ length: 50 }, (_, i) => sampleDocument(5000 + i));

function totalSize(compressor: ZstdCompressor, documents: readonly Uint8Array[]): number {
  return documents.reduce((sum, document) => sum + compressor.compress(document).length, 0);
}

describe('zstd with a trained dictionary', () => {
  let withDictionary: ZstdCompressor;
  let plain: ZstdCompressor;
  beforeAll(async () => {
    withDictionary = await zstd({ dictionary });
    plain = await zstd({ implementation: 'wasm' });
  });

  it('runs on WebAssembly, names the dictionary in its id and in every frame', () => {
    expect(withDictionary).toMatchObject({
      id: `zstd:dict-${DICTIONARY_ID}`,
      implementation: 'wasm',
      dictionaryId: DICTIONARY_ID,
    });
    const frame = withDictionary.compress(unseen[0]!);
    const descriptor = frame[4]!;
    expect(descriptor & 3).not.toBe(0); // a dictionary ID field is present
  });

  it('round-trips documents it was not trained on, about twice as small as without', () => {
    for (const document of unseen) {
      expectSameBytes(
        withDictionary.decompress(withDictionary.compress(document), document.length),
        document,
      );
    }
    const raw = unseen.reduce((sum, document) => sum + document.length, 0);
    const ratioWith = raw / totalSize(withDictionary, unseen);
    const ratioWithout = raw / totalSize(plain, unseen);
    console.info(
      `1 KB documents: ratio ${ratioWithout.toFixed(2)} without the dictionary, ${ratioWith.toFixed(2)} with`,
    );
    expect(ratioWith).toBeGreaterThan(1.5 * ratioWithout);
  });

  it('still reads frames written without a dictionary', () => {
    const document = unseen[1]!;
    expectSameBytes(withDictionary.decompress(plain.compress(document), document.length), document);
    const mixed = concatBytes(plain.compress(document), withDictionary.compress(document));
    expectSameBytes(withDictionary.decompress(mixed, 2 * document.length), concatBytes(document, document));
  });

  it('keeps the limits: exactly maxOutputBytes passes, one byte less fails', () => {
    const document = unseen[2]!;
    const frame = withDictionary.compress(document);
    expectSameBytes(withDictionary.decompress(frame, document.length), document);
    expectCacheError(() => withDictionary.decompress(frame, document.length - 1), 'DECOMPRESS_LIMIT');
  });

  it('is refused with DECOMPRESS by a reader without the dictionary, or with another one', async () => {
    const frame = withDictionary.compress(unseen[3]!);
    const error = expectCacheError(() => plain.decompress(frame, 1 << 20), 'DECOMPRESS');
    expect(error.message).toContain(`dictionary ${DICTIONARY_ID}`);
    const other = dictionary.slice();
    other.set([0x01, 0x00, 0x00, 0x40], 4); // the same content under another ID
    const otherReader = await zstd({ dictionary: other });
    expect(otherReader.id).toBe('zstd:dict-1073741825');
    expectCacheError(() => otherReader.decompress(frame, 1 << 20), 'DECOMPRESS');
  });

  it('refuses dictionaries without an ID, and the node implementation', () => {
    const raw = new TextEncoder().encode('{"id":0,"name":"alpha bravo","email":"user0@example.test"}');
    expectCacheError(() => zstdSync({ dictionary: raw }), 'INVALID_OPTIONS');
    const noId = dictionary.slice();
    noId.set([0, 0, 0, 0], 4);
    expectCacheError(() => zstdSync({ dictionary: noId }), 'INVALID_OPTIONS');
    expectCacheError(() => zstdSync({ dictionary, implementation: 'node' }), 'INVALID_OPTIONS');
  });

  it('keeps its own copy of the dictionary', async () => {
    const mine = dictionary.slice();
    const compressor = await zstd({ dictionary: mine });
    const frame = compressor.compress(unseen[4]!);
    mine.fill(0, 8);
    expectSameBytes(compressor.decompress(frame, unseen[4]!.length), unseen[4]!);
  });
});
