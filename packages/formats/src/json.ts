import { CacheError, type Format } from '@cache/core';

// The WHATWG text codecs exist in every runtime we target; typed here so the package needs no DOM or Node types.
interface Utf8Encoder {
  encode(text: string): Uint8Array;
}
interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}
const codecs = globalThis as unknown as {
  TextEncoder: new () => Utf8Encoder;
  TextDecoder: new (label: string, options: { fatal: boolean }) => Utf8Decoder;
};
const encoder = new codecs.TextEncoder();
// fatal: invalid UTF-8 is an error, never replaced by U+FFFD into a different value
const decoder = new codecs.TextDecoder('utf-8', { fatal: true });

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Plain JSON as UTF-8 bytes (`JSON.stringify` / `JSON.parse`), readable by any JSON reader, hitbox's
 * `JsonFormat` included. Only JSON's own types survive: `Date` becomes its ISO string, `Map` and `Set` become
 * `{}`, `undefined` is dropped from objects and becomes `null` in arrays, `NaN` and `±Infinity` become `null`,
 * `-0` becomes `0`, a `Uint8Array` becomes an object of indices and a `Buffer` `{ type: 'Buffer', data: [...] }`.
 * `BigInt`, cycles and a top-level `undefined`, function or symbol fail with `SERIALIZE`.
 */
export const json: Format = Object.freeze({
  id: 'json',
  serialize(value: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new CacheError('SERIALIZE', `json cannot encode this value: ${describe(error)}`, {
        cause: error,
      });
    }
    if (text === undefined) {
      throw new CacheError('SERIALIZE', `json cannot encode a top-level ${typeof value}`);
    }
    return encoder.encode(text);
  },
  deserialize(bytes: Uint8Array): unknown {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch (error) {
      throw new CacheError(
        'DESERIALIZE',
        'not json-format bytes: invalid UTF-8 (written with another format?)',
        {
          cause: error,
        },
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new CacheError('DESERIALIZE', `not json-format bytes: ${describe(error)}`, { cause: error });
    }
  },
});
