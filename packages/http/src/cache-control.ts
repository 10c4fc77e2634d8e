/**
 * Parsed `Cache-Control` directives: lower-case names to their value (`true` for a directive without one).
 * A directive that appears twice keeps its first value, and is listed in `duplicates`.
 */
export interface Directives {
  readonly map: ReadonlyMap<string, string | true>;
  readonly duplicates: ReadonlySet<string>;
}

const EMPTY: Directives = { map: new Map(), duplicates: new Set() };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses the lines of a `Cache-Control` field (RFC 9111 section 5.2): comma-separated directives, each a token
 * with an optional `=` and a token or quoted-string value. Commas and `=` inside quoted strings belong to the
 * value; directives with spaces around `=` or other syntax errors are dropped, never guessed at.
 */
export function parseCacheControl(lines: readonly string[] | string | undefined | null): Directives {
  if (lines === undefined || lines === null) return EMPTY;
  const text = typeof lines === 'string' ? lines : lines.join(',');
  if (text === '') return EMPTY;
  const map = new Map<string, string | true>();
  let duplicates: Set<string> | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // one member: up to the next comma outside a quoted string
    let nameEnd = i;
    while (nameEnd < n && text[nameEnd] !== ',' && text[nameEnd] !== '=') nameEnd++;
    const rawName = text.slice(i, nameEnd);
    let value: string | true = true;
    let valid = true;
    i = nameEnd;
    if (i < n && text[i] === '=') {
      i++;
      if (i < n && text[i] === '"') {
        let out = '';
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '\\' && i + 1 < n) {
            out += text[i + 1];
            i += 2;
            continue;
          }
          if (c === '"') {
            closed = true;
            i++;
            break;
          }
          out += c;
          i++;
        }
        value = out;
        if (!closed) valid = false;
        // anything but whitespace before the next comma makes the member invalid
        while (i < n && text[i] !== ',') {
          if (text[i] !== ' ' && text[i] !== '\t') valid = false;
          i++;
        }
      } else {
        let end = i;
        while (end < n && text[end] !== ',') end++;
        const raw = text.slice(i, end);
        const trimmed = raw.replace(/[ \t]+$/, '');
        value = trimmed;
        if (!TOKEN.test(trimmed)) valid = false;
        i = end;
      }
    }
    i++; // the comma
    const name = rawName.replace(/^[ \t]+/, '');
    const trimmedName = value === true ? name.replace(/[ \t]+$/, '') : name;
    if (trimmedName === '' && value === true) continue;
    if (!TOKEN.test(trimmedName) || !valid) continue;
    const key = trimmedName.toLowerCase();
    if (map.has(key)) {
      duplicates ??= new Set();
      duplicates.add(key);
      continue;
    }
    map.set(key, value);
  }
  return { map, duplicates: duplicates ?? EMPTY.duplicates };
}

/**
 * A delta-seconds value (RFC 9111 section 1.2.2): digits only, leading zeros allowed; larger than 2^31 counts
 * as 2^31. `undefined` for anything else (`"1.5"`, `"-1"`, `"a1"`). Quoted values were unquoted by the parser.
 */
export function deltaSeconds(value: string | true | undefined): number | undefined {
  if (value === undefined || value === true) return undefined;
  if (!/^[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  return Math.min(n, 2_147_483_648);
}

/** The field names listed in a qualified directive (`no-cache="Set-Cookie, X-Foo"`), lower case. */
export function fieldNames(value: string | true | undefined): string[] {
  if (value === undefined || value === true) return [];
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}
