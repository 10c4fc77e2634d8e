export { cbor } from './cbor.js';
export { CBOR_MARKER, MAX_BIGNUM_BYTES } from './cbor-check.js';
export { json } from './json.js';
