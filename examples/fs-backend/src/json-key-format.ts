import { CacheError, CacheKey, type KeyFormat, type KeyPart } from '@cache/core';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(message: string, cause?: unknown): CacheError {
  return new CacheError('KEY_DECODE', `not a json-key: ${message}`, cause === undefined ? {} : { cause });
}

/**
 * The default key format of this backend: `[prefix, version, name1, value1, name2, value2, ...]` as UTF-8 JSON.
 * Lossless (a `null` value and `""` stay distinct, no name is reserved), which url-encoded keys are not. File
 * names are hashes of these bytes, so readability of the key on disk does not matter; the bytes inside each
 * file still let a tool list which keys a directory holds.
 */
export const jsonKeys: KeyFormat = Object.freeze({
  id: 'json-key',
  lossless: true,
  encode(key: CacheKey): Uint8Array {
    const flat: (string | number | null)[] = [key.prefix, key.version];
    for (const part of key.parts) flat.push(part.name, part.value);
    return encoder.encode(JSON.stringify(flat));
  },
  decode(bytes: Uint8Array): CacheKey {
    let flat: unknown;
    try {
      flat = JSON.parse(decoder.decode(bytes));
    } catch (error) {
      throw invalid('bytes are not UTF-8 JSON', error);
    }
    if (!Array.isArray(flat) || flat.length < 2 || flat.length % 2 !== 0)
      throw invalid('not a flat pair list');
    const [prefix, version] = flat;
    if (typeof prefix !== 'string' || typeof version !== 'number') throw invalid('bad prefix or version');
    const parts: KeyPart[] = [];
    for (let i = 2; i < flat.length; i += 2) {
      const name: unknown = flat[i];
      const value: unknown = flat[i + 1];
      if (typeof name !== 'string' || (typeof value !== 'string' && value !== null)) {
        throw invalid(`bad part at position ${i / 2 - 1}`);
      }
      parts.push({ name, value });
    }
    try {
      return new CacheKey(prefix, version, parts);
    } catch (error) {
      throw invalid('fields out of range', error);
    }
  },
});
