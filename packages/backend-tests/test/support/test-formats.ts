import { CacheError, CacheKey, type Format, type KeyFormat, type KeyPart } from '@cache/core';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const BYTES = 0;
const JSON_TAG = 1;

function bytesToJson(_name: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $bytes: Buffer.from(value).toString('hex') } : value;
}

function jsonToBytes(_name: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && Object.keys(value).length === 1) {
    const hex = (value as { $bytes?: unknown }).$bytes;
    if (typeof hex === 'string') return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  return value;
}

/**
 * Test format: `Uint8Array` data is stored as is behind a tag byte, anything else as JSON behind another, with
 * nested bytes as `{ "$bytes": hex }`.
 */
export const jsonOrBytes: Format = Object.freeze({
  id: 'test-json-or-bytes',
  serialize(value: unknown): Uint8Array {
    const body = value instanceof Uint8Array ? value : encoder.encode(JSON.stringify(value, bytesToJson));
    const out = new Uint8Array(body.length + 1);
    out[0] = value instanceof Uint8Array ? BYTES : JSON_TAG;
    out.set(body, 1);
    return out;
  },
  deserialize(bytes: Uint8Array): unknown {
    const body = bytes.subarray(1);
    if (bytes[0] === BYTES) return body.slice();
    if (bytes[0] === JSON_TAG) return JSON.parse(decoder.decode(body), jsonToBytes);
    throw new CacheError('DESERIALIZE', `unknown tag ${String(bytes[0])}`);
  },
});

/** Test format: plain JSON, which cannot carry bytes (the suite's `binaryData: false`). */
export const jsonOnly: Format = Object.freeze({
  id: 'test-json',
  serialize(value: unknown): Uint8Array {
    return encoder.encode(JSON.stringify(value));
  },
  deserialize(bytes: Uint8Array): unknown {
    return JSON.parse(decoder.decode(bytes));
  },
});

/** Test key format: the key's canonical JSON, which tells every key apart (null and "" included). */
export const canonicalKeys: KeyFormat = Object.freeze({
  id: 'test-canonical',
  lossless: true,
  encode(key: CacheKey): Uint8Array {
    return encoder.encode(key.canonical);
  },
  decode(bytes: Uint8Array): CacheKey {
    const [prefix, version, ...flat] = JSON.parse(decoder.decode(bytes)) as [
      string,
      number,
      ...(string | null)[],
    ];
    const parts: KeyPart[] = [];
    for (let i = 0; i < flat.length; i += 2)
      parts.push({ name: flat[i] as string, value: flat[i + 1] ?? null });
    return new CacheKey(prefix, version, parts);
  },
});
