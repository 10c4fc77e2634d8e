// UTF-8 for the binary key format, tuned for the short strings keys are made of: a plain loop beats a
// TextEncoder/TextDecoder call on a few bytes, which is kept for long strings and for validating non-ASCII.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strings up to this many UTF-16 units are encoded by hand; longer ones by `TextEncoder.encodeInto`. */
const SHORT_TEXT = 48;
/** ASCII runs up to this many bytes become a string through `String.fromCharCode`. */
const SHORT_ASCII = 1024;

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

/** True when every byte of `bytes[start..end)` is ASCII. */
export function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  let acc = 0;
  for (let i = start; i < end; i++) acc |= bytes[i]!;
  return acc < 0x80;
}

/** `bytes[start..end)`, known to be ASCII, as a string. */
export function asciiString(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_ASCII) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return strictDecoder.decode(bytes.subarray(start, end));
}

/** Decodes `bytes[start..end)` as UTF-8, throwing a `TypeError` on invalid UTF-8 instead of inserting U+FFFD. */
export function strictUtf8(bytes: Uint8Array, start: number, end: number): string {
  return strictDecoder.decode(bytes.subarray(start, end));
}
