import { CacheError, type Format } from '@cache/core';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Plain UTF-8 JSON, the default value format. Defined here rather than taken from `@cache/formats` so that this
 * backend depends on `@cache/core` alone; pass any other `Format` (CBOR for binary data) in the options.
 * Values JSON cannot represent (`undefined`, functions, `BigInt`, cycles) fail with `SERIALIZE`.
 */
export const json: Format = Object.freeze({
  id: 'json',
  serialize(value: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw CacheError.wrap(error, 'SERIALIZE', 'value cannot be written as JSON');
    }
    if (text === undefined)
      throw new CacheError('SERIALIZE', `a value of type ${typeof value} has no JSON form`);
    return encoder.encode(text);
  },
  deserialize(bytes: Uint8Array): unknown {
    try {
      return JSON.parse(decoder.decode(bytes));
    } catch (error) {
      throw CacheError.wrap(error, 'DESERIALIZE', 'stored bytes are not UTF-8 JSON');
    }
  },
});
