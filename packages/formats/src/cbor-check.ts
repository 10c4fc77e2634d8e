/**
 * A structural check of CBOR bytes before cbor-x decodes them, and after it encodes them. cbor-x decodes many
 * tags on its own (records, shared structures, packed values, value sharing that builds cycles, Error/RegExp, and
 * any tag another module registered globally with `addExtension`); this check admits only the tags the `cbor`
 * format writes, so bytes from anyone else cannot reach those decoders.
 */

/** Self-described CBOR (RFC 8949 §3.4.6): tag 55799 encoded as `d9 d9 f7`, the first three bytes of every value. */
export const CBOR_MARKER: readonly [number, number, number] = [0xd9, 0xd9, 0xf7];

/** Largest bignum payload (tags 2 and 3) accepted: 4 KiB, a 32768-bit integer. cbor-x decodes them in O(n²). */
export const MAX_BIGNUM_BYTES = 4096;

// What the item following a tag must be.
const ANY = 0;
const TEXT = 1; // tag 0: date string
const NUMBER = 2; // tag 1: epoch seconds
const BIGNUM = 3; // tags 2, 3
const ARRAY = 4; // tag 258: Set
const MAP = 5; // tag 259: Map
const TYPED = 6; // tags 64-86: typed arrays, byte string with a length multiple of the element size

// Element size of the typed-array tags cbor-x reads (RFC 8746: big- and little-endian), 0 for tags we refuse.
const TYPED_ARRAY_ELEMENT: Uint8Array = new Uint8Array(87);
for (const [size, tags] of [
  [1, [64, 68, 72]], // Uint8Array, Uint8ClampedArray, Int8Array
  [2, [65, 69, 73, 77]], // Uint16Array, Int16Array
  [4, [66, 70, 74, 78, 81, 85]], // Uint32Array, Int32Array, Float32Array
  [8, [67, 71, 75, 79, 82, 86]], // BigUint64Array, BigInt64Array, Float64Array
] as const) {
  for (const tag of tags) TYPED_ARRAY_ELEMENT[tag] = size;
}

// Frame flags.
const PLAIN_MAP = 1; // a map decoded as an object: keys must be text, `__proto__` is refused
const INDEFINITE = 2;

// "__proto__" in UTF-8.
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

function isProto(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 9; i++) if (bytes[at + i] !== PROTO[i]) return false;
  return true;
}

/**
 * Walks the CBOR item that starts at `start` and must end exactly at the end of `bytes`, without recursion and
 * without allocating values. Returns `undefined` when the item is well formed and uses only supported tags,
 * otherwise a short description of the first problem.
 */
export function findCborProblem(bytes: Uint8Array, start: number): string | undefined {
  const end = bytes.length;
  let pos = start;
  // The open containers. The innermost one lives in locals (items left, -1 when indefinite; items read; flags;
  // the constraint a tag puts on its content); outer ones are saved on the stacks. The top level holds one item.
  let stackLeft = new Int32Array(16);
  let stackRead = new Int32Array(16);
  let stackFlags = new Uint8Array(16);
  let stackWant = new Uint8Array(16);
  let depth = 0;
  let left = 1;
  let read = 0;
  let flags = 0;
  let want = ANY;

  for (;;) {
    while (left === 0) {
      if (depth === 0) return pos === end ? undefined : 'trailing bytes after the value';
      depth--;
      left = stackLeft[depth]!;
      read = stackRead[depth]!;
      flags = stackFlags[depth]!;
      want = stackWant[depth]!;
    }
    if (pos >= end) return 'truncated';
    const initial = bytes[pos++]!;
    if (initial === 0xff) {
      if (!(flags & INDEFINITE)) return 'unexpected break';
      if (flags & PLAIN_MAP && read % 2 === 1) return 'map without a value for its last key';
      left = 0;
      continue;
    }
    const major = initial >> 5;
    const info = initial & 31;
    const isKey = (flags & PLAIN_MAP) !== 0 && read % 2 === 0;
    const constraint = want;
    if (left > 0) left--;
    read++;

    let argument = info;
    if (info >= 24) {
      if (info === 24) {
        if (pos + 1 > end) return 'truncated';
        argument = bytes[pos]!;
        pos += 1;
      } else if (info === 25) {
        if (pos + 2 > end) return 'truncated';
        argument = (bytes[pos]! << 8) | bytes[pos + 1]!;
        pos += 2;
      } else if (info === 26) {
        if (pos + 4 > end) return 'truncated';
        argument =
          ((bytes[pos]! << 24) >>> 0) + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
        pos += 4;
      } else if (info === 27) {
        if (pos + 8 > end) return 'truncated';
        const high =
          ((bytes[pos]! << 24) >>> 0) + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
        const low =
          ((bytes[pos + 4]! << 24) >>> 0) +
          ((bytes[pos + 5]! << 16) | (bytes[pos + 6]! << 8) | bytes[pos + 7]!);
        argument = high * 0x1_0000_0000 + low; // beyond 2^53 it is only compared with lengths, which it exceeds
        pos += 8;
      } else if (info === 31) {
        if (major !== 4 && major !== 5) return `indefinite length in major type ${major}`;
        argument = -1;
      } else {
        return `reserved additional information ${info}`;
      }
    }
    if (isKey && major !== 3) return 'object key is not a text string';
    if (constraint !== ANY) {
      const problem = checkTagContent(constraint, major, info, argument);
      if (problem !== undefined) return problem;
    }

    if (major === 2 || major === 3) {
      if (argument > end - pos) return 'truncated';
      if (isKey && argument === 9 && isProto(bytes, pos)) return 'object key "__proto__"';
      pos += argument;
    } else if (major === 4 || major === 5 || major === 6) {
      let items: number;
      let content = ANY;
      if (major === 6) {
        const tagContent = tagConstraint(argument);
        if (tagContent === undefined) return `unsupported tag ${argument}`;
        items = 1;
        content = tagContent;
      } else {
        items = argument === -1 ? -1 : major === 5 ? argument * 2 : argument;
        // every item takes at least one byte: a count beyond what remains can never be satisfied
        if (items > end - pos) return 'truncated';
        if (items === 0) continue;
      }
      if (depth + 1 === stackLeft.length) {
        stackLeft = grow(stackLeft);
        stackRead = grow(stackRead);
        stackFlags = grow(stackFlags);
        stackWant = grow(stackWant);
      }
      stackLeft[depth] = left;
      stackRead[depth] = read;
      stackFlags[depth] = flags;
      stackWant[depth] = want;
      depth++;
      left = items;
      read = 0;
      flags = (items === -1 ? INDEFINITE : 0) | (major === 5 && constraint !== MAP ? PLAIN_MAP : 0);
      want = content;
    } else if (major === 7 && (info < 20 || info === 24)) {
      // false, true, null, undefined and floats only
      return `unsupported simple value ${argument}`;
    }
  }
}

function checkTagContent(
  constraint: number,
  major: number,
  info: number,
  argument: number,
): string | undefined {
  switch (constraint) {
    case TEXT:
      return major === 3 ? undefined : 'tag 0 without a text string';
    case NUMBER:
      return major <= 1 || (major === 7 && info >= 25 && info <= 27) ? undefined : 'tag 1 without a number';
    case BIGNUM:
      if (major !== 2) return 'bignum without a byte string';
      return argument > MAX_BIGNUM_BYTES ? `bignum longer than ${MAX_BIGNUM_BYTES} bytes` : undefined;
    case ARRAY:
      return major === 4 ? undefined : 'tag 258 without an array';
    case MAP:
      return major === 5 ? undefined : 'tag 259 without a map';
    default: // TYPED + element size
      if (major !== 2) return 'typed array tag without a byte string';
      return argument % (constraint - TYPED) === 0
        ? undefined
        : 'typed array length is not a multiple of its element size';
  }
}

function tagConstraint(tag: number): number | undefined {
  switch (tag) {
    case 0:
      return TEXT;
    case 1:
      return NUMBER;
    case 2:
    case 3:
      return BIGNUM;
    case 258:
      return ARRAY;
    case 259:
      return MAP;
    default: {
      const size = tag < TYPED_ARRAY_ELEMENT.length ? TYPED_ARRAY_ELEMENT[tag]! : 0;
      return size === 0 ? undefined : TYPED + size;
    }
  }
}

function grow<T extends Int32Array | Uint8Array>(array: T): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
  bigger.set(array);
  return bigger;
}
