import { CacheError, type Format } from '@cache/core';
import { Encoder, type Options } from 'cbor-x';
import { CBOR_MARKER, findCborProblem } from './cbor-check.js';
import { hasLoneSurrogate, mayHoldLoneSurrogate } from './lone-surrogate.js';

interface NodeBufferStatic {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array;
}

// In Node, decoding from a Buffer makes untagged byte strings come back as Buffers, so Buffer and Uint8Array
// both round-trip as themselves. Elsewhere they come back as Uint8Array.
const NodeBuffer = (globalThis as { Buffer?: NodeBufferStatic }).Buffer;

// One encoder for the process. Every option that would make bytes depend on this process's state is off:
// no records or shared structures, no packed values, no bundled strings, no value sharing.
const options: Options & { useTag259ForMaps: boolean; int64AsNumber: boolean } = {
  useRecords: false,
  mapsAsObjects: true, // CBOR maps with text keys are objects; `Map` travels as tag 259 and comes back a Map
  useTag259ForMaps: true,
  tagUint8Array: true, // Uint8Array as tag 64, Buffer untagged: each decodes to its own type
  copyBuffers: true, // decoded byte arrays own their memory instead of aliasing the stored bytes
  useSelfDescribedHeader: true, // every value starts with d9 d9 f7, see CBOR_MARKER
  pack: false,
  bundleStrings: false,
  structuredClone: false,
  sequential: false,
  largeBigIntToFloat: false,
  int64AsNumber: false,
  useFloat32: 0,
  alwaysUseFloat: false,
};
const codec = new Encoder(options);

function hasMarker(bytes: Uint8Array): boolean {
  return bytes[0] === CBOR_MARKER[0] && bytes[1] === CBOR_MARKER[1] && bytes[2] === CBOR_MARKER[2];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * CBOR (RFC 8949) through cbor-x: the recommended format. `Date`, `Map`, `Set`, `BigInt`, `undefined`,
 * `Uint8Array`, `Buffer`, typed arrays and nested structures round-trip exactly. Every value starts with the
 * self-described CBOR tag (`d9 d9 f7`), so bytes of another format are refused instead of misread, and bytes
 * are checked before decoding: only the tags this format writes are accepted, object keys must be text and
 * never `__proto__`. Values this format could not read back (functions, symbols, `Error`, `RegExp`, cycles,
 * strings with lone surrogates, an own `__proto__` key, bignums over 4 KiB) fail at `serialize` with `SERIALIZE`.
 */
export const cbor: Format = Object.freeze({
  id: 'cbor',
  serialize(value: unknown): Uint8Array {
    let encoded: Uint8Array;
    try {
      encoded = codec.encode(value);
    } catch (error) {
      throw new CacheError('SERIALIZE', `cbor cannot encode this value: ${describe(error)}`, {
        cause: error,
      });
    }
    const problem = findCborProblem(encoded, CBOR_MARKER.length);
    if (problem !== undefined) {
      throw new CacheError('SERIALIZE', `cbor cannot encode this value so that it reads back: ${problem}`);
    }
    if (mayHoldLoneSurrogate(encoded) && hasLoneSurrogate(value)) {
      throw new CacheError(
        'SERIALIZE',
        'cbor cannot encode a string with a lone UTF-16 surrogate (not Unicode text)',
      );
    }
    // cbor-x returns a view into its reusable output buffer: copy, so stored bytes own their memory
    return new Uint8Array(encoded);
  },
  deserialize(bytes: Uint8Array): unknown {
    if (bytes.length < CBOR_MARKER.length + 1 || !hasMarker(bytes)) {
      throw new CacheError(
        'DESERIALIZE',
        'not cbor-format bytes: the self-described CBOR tag d9 d9 f7 is missing (written with another format?)',
      );
    }
    const problem = findCborProblem(bytes, CBOR_MARKER.length);
    if (problem !== undefined) throw new CacheError('DESERIALIZE', `invalid cbor-format bytes: ${problem}`);
    // decode after the marker, so no other module's global cbor-x extension for tag 55799 is involved
    const start = CBOR_MARKER.length;
    const source =
      NodeBuffer === undefined
        ? bytes.subarray(start)
        : NodeBuffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
    try {
      return codec.decode(source);
    } catch (error) {
      throw new CacheError('DESERIALIZE', `invalid cbor-format bytes: ${describe(error)}`, { cause: error });
    }
  },
});
