/**
 * Strings holding a lone UTF-16 surrogate are not Unicode text, so CBOR (whose text strings are UTF-8) cannot
 * carry them: cbor-x writes them as invalid UTF-8 that reads back as U+FFFD. These checks find them so that
 * `serialize` fails instead of storing a value that would read back different.
 */

/**
 * Fast pre-check on encoded bytes: a surrogate code point encodes as `ed a0..bf ..`, which valid UTF-8 never
 * contains. False positives (the pattern inside binary data) only cost the exact check below.
 */
export function mayHoldLoneSurrogate(encoded: Uint8Array): boolean {
  for (let at = encoded.indexOf(0xed); at !== -1; at = encoded.indexOf(0xed, at + 1)) {
    const next = encoded[at + 1];
    if (next !== undefined && next >= 0xa0 && next <= 0xbf) return true;
  }
  return false;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function wellFormed(text: string): boolean {
  const check = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return check === undefined ? !LONE_SURROGATE.test(text) : check.call(text);
}

/** True when a string anywhere in `value` (keys included) holds a lone surrogate. */
export function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !wellFormed(value);
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date)
    return false;
  if (value instanceof Map) {
    for (const [key, entry] of value) if (hasLoneSurrogate(key) || hasLoneSurrogate(entry)) return true;
    return false;
  }
  if (value instanceof Set || Array.isArray(value)) {
    for (const entry of value) if (hasLoneSurrogate(entry)) return true;
    return false;
  }
  for (const key in value) {
    if (!wellFormed(key) || hasLoneSurrogate((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}
