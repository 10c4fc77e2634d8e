// UTF-8 for the binary key format. Encoding short strings by hand beats a TextEncoder call on a few bytes;
// decoding always goes through a fatal TextDecoder, which both validates and is the fastest way in V8.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strings up to this many UTF-16 units are encoded by hand; longer ones by `TextEncoder.encodeInto`. */
const SHORT_TEXT = 48;

/**
 * Writes `text` as UTF-8 into `out` at `pos` and returns the position after it. `out` must have room for
 * `3 * text.length` bytes. Lone surrogates become U+FFFD, as with `TextEncoder`.
 */
export function writeUtf8(text: string, out: Uint8Array, pos: number): number {
  const length = text.length;
  if (length > SHORT_TEXT) return pos + encoder.encodeInto(text, out.subarray(pos)).written;
  for (let i = 0; i < length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          out[pos++] = 0xf0 | (cp >> 18);
          out[pos++] = 0x80 | ((cp >> 12) & 0x3f);
          out[pos++] = 0x80 | ((cp >> 6) & 0x3f);
          out[pos++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
        c = 0xfffd;
      }
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** Decodes `bytes[start..end)` as UTF-8, throwing a `TypeError` on invalid UTF-8 instead of inserting U+FFFD. */
export function strictUtf8(bytes: Uint8Array, start: number, end: number): string {
  return strictDecoder.decode(bytes.subarray(start, end));
}
