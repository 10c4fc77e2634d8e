import type { CacheKey } from '../cache-key.js';
import { CacheError } from '../errors.js';
import type { KeyFormat } from './key-format.js';

// Placeholder until the bitcode codec lands: fails loudly rather than produce wrong bytes.
/** hitbox's compact binary key encoding (bitcode 0.6 layout). */
export const bitcode: KeyFormat = Object.freeze({
  id: 'bitcode',
  lossless: true,
  encode(_key: CacheKey): Uint8Array {
    throw new CacheError('BACKEND', 'bitcode key format not implemented yet');
  },
  decode(_bytes: Uint8Array): CacheKey {
    throw new CacheError('KEY_DECODE', 'bitcode key format not implemented yet');
  },
});
