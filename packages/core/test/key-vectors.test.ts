import { describe, expect, it } from 'vitest';
import { bitcode, urlDecodeKey, urlEncodeKey, urlEncoded } from '../src/index.js';
import { derivedVectors, fromHex, hitboxVectors, plainKey, toHex, vectorKey } from './helpers/key-vectors.js';

describe('hitbox key vectors', () => {
  it('has the 14 published vectors', () => {
    expect(hitboxVectors).toHaveLength(14);
  });

  describe.each(hitboxVectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const key = vectorKey(vector);

    it('bitcode encodes to the hitbox bytes', () => {
      expect(toHex(bitcode.encode(key))).toBe(vector.bitcodeHex);
    });

    it('bitcode decodes the hitbox bytes to the key', () => {
      const decoded = bitcode.decode(fromHex(vector.bitcodeHex));
      expect(plainKey(decoded)).toEqual(plainKey(key));
      expect(decoded.equals(key)).toBe(true);
    });

    it('url-encoded encodes to the hitbox text, as string and as UTF-8 bytes', () => {
      expect(urlEncodeKey(key)).toBe(vector.urlEncoded);
      expect(new TextDecoder().decode(urlEncoded.encode(key))).toBe(vector.urlEncoded);
    });

    it('url-encoded decodes the hitbox text to the key', () => {
      // No vector has an empty value, so the null/"" lossiness does not apply here.
      expect(plainKey(urlDecodeKey(vector.urlEncoded ?? ''))).toEqual(plainKey(key));
      expect(plainKey(urlEncoded.decode(new TextEncoder().encode(vector.urlEncoded)))).toEqual(plainKey(key));
    });
  });
});

describe('vectors derived by hand from the bitcode layout', () => {
  describe.each(derivedVectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const key = vectorKey(vector);

    it('encodes to the derived bytes', () => {
      expect(toHex(bitcode.encode(key))).toBe(vector.bitcodeHex);
    });

    it('decodes the derived bytes to the key', () => {
      expect(plainKey(bitcode.decode(fromHex(vector.bitcodeHex)))).toEqual(plainKey(key));
    });
  });
});

describe('encoded sizes', () => {
  it('a method+path key is 32 bytes in bitcode and 50 in url-encoded (the size hitbox documents)', () => {
    const key = vectorKey({
      name: 'method+path',
      prefix: '',
      version: 0,
      parts: [
        ['method', 'GET'],
        ['path', '/api/users'],
      ],
      bitcodeHex: '',
    });
    expect(bitcode.encode(key)).toHaveLength(32);
    expect(urlEncoded.encode(key)).toHaveLength(50);
  });
});
