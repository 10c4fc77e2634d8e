import { CacheKey, type KeyPart } from '../cache-key.js';
import { CacheError } from '../errors.js';
import type { KeyFormat } from './key-format.js';

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const RESERVED_IN_URI_COMPONENT = /[!'()~]/g;

/** WHATWG `application/x-www-form-urlencoded` byte serializer: keeps `A-Za-z0-9*-._`, space as `+`, else `%XX`. */
function formEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(RESERVED_IN_URI_COMPONENT, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Strict form decoding: `+` is a space, `%XX` a byte; bad escapes and invalid UTF-8 are errors, not U+FFFD. */
function formDecode(text: string): string {
  if (!/[%+]/.test(text)) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2b) {
      bytes.push(0x20);
    } else if (code === 0x25) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw new CacheError('KEY_DECODE', `invalid percent escape at offset ${i}`);
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      // Raw non-ASCII text: encode the whole code point (a surrogate pair is one character, not two halves).
      const codePoint = text.codePointAt(i) ?? 0;
      for (const b of encoder.encode(String.fromCodePoint(codePoint))) bytes.push(b);
      if (codePoint > 0xffff) i++;
    }
  }
  try {
    return strictDecoder.decode(new Uint8Array(bytes));
  } catch (error) {
    throw new CacheError('KEY_DECODE', 'percent-decoded key text is not valid UTF-8', { cause: error });
  }
}

/**
 * hitbox's readable key encoding: `_prefix=…&_version=…&name=value…`, form-encoded, byte-compatible with hitbox's
 * `CacheKeyFormat::UrlEncoded`. It is the default: keys can be read, SCANned by prefix and granted by ACL patterns.
 *
 * Lossy, as in hitbox: a `null` value and `""` both encode as `name=` and decode as `null`, and a part named
 * `_prefix` or `_version` collides with the header pairs. Decoding is strict: invalid escapes, invalid UTF-8 and a
 * `_version` that is not a u32 are `KEY_DECODE` errors.
 */
export const urlEncoded: KeyFormat = Object.freeze({
  id: 'url-encoded',
  lossless: false,
  encode(key: CacheKey): Uint8Array {
    return encoder.encode(urlEncodeKey(key));
  },
  decode(bytes: Uint8Array): CacheKey {
    let text: string;
    try {
      text = strictDecoder.decode(bytes);
    } catch (error) {
      throw new CacheError('KEY_DECODE', 'url-encoded key is not valid UTF-8', { cause: error });
    }
    return urlDecodeKey(text);
  },
});

/** The url-encoded form of `key` as a string (what {@link urlEncoded} encodes as UTF-8 bytes). */
export function urlEncodeKey(key: CacheKey): string {
  let out = `_prefix=${formEncode(key.prefix)}&_version=${key.version}`;
  for (const part of key.parts) out += `&${formEncode(part.name)}=${formEncode(part.value ?? '')}`;
  return out;
}

/** Parses the url-encoded form of a key. Throws `KEY_DECODE` on malformed input. */
export function urlDecodeKey(text: string): CacheKey {
  let prefix = '';
  let version = 0;
  const parts: KeyPart[] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = formDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : formDecode(pair.slice(eq + 1));
    if (name === '_prefix') {
      prefix = value;
    } else if (name === '_version') {
      if (!/^\+?[0-9]{1,10}$/.test(value) || Number(value) > 0xffff_ffff) {
        throw new CacheError('KEY_DECODE', '_version is not an unsigned 32-bit integer');
      }
      version = Number(value);
    } else {
      parts.push({ name, value: value === '' ? null : value });
    }
  }
  return new CacheKey(prefix, version, parts);
}
