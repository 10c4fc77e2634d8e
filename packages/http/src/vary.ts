import { createHash } from 'node:crypto';
import { getHeaderLines, type HeaderList, type RequestHeaders } from './headers.js';

/** The field names a response's `Vary` lists (lower case, deduplicated); `'*'` when it lists `*`. */
export function varyNames(headers: HeaderList): string[] | '*' {
  const names: string[] = [];
  for (const line of getHeaderLines(headers, 'vary')) {
    for (const token of line.split(',')) {
      const name = token.trim().toLowerCase();
      if (name === '') continue;
      if (name === '*') return '*';
      if (!names.includes(name)) names.push(name);
    }
  }
  return names;
}

/** Content-negotiation fields whose members are case-insensitive and whose order carries no meaning (q-values do). */
const UNORDERED = new Set(['accept', 'accept-language', 'accept-encoding', 'accept-charset']);

/**
 * A request field's value normalised for comparison: whitespace around list commas and runs of spaces folded;
 * for the negotiation fields, members lower-cased and sorted.
 */
function normalise(name: string, value: string | null): string | null {
  if (value === null) return null;
  const parts = value.split(',').map((part) =>
    part
      .trim()
      .replace(/[ \t]*;[ \t]*/g, ';')
      .replace(/[ \t]+/g, ' '),
  );
  if (!UNORDERED.has(name)) return parts.join(',');
  return parts
    .map((p) => p.toLowerCase())
    .filter((p) => p !== '')
    .sort()
    .join(',');
}

/** Request fields whose values are credentials: stored beside a response as a SHA-256 digest, never as sent. */
const SECRET = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** The value kept for `name` (normalised; a digest for credentials), compared on every lookup. */
function stored(name: string, value: string | null): string | null {
  const normalised = normalise(name, value);
  if (normalised === null || !SECRET.has(name)) return normalised;
  return `sha256:${createHash('sha256').update(normalised).digest('base64')}`;
}

/** The request's values of `names`, as stored beside a response for later matching. */
export function varyValues(names: readonly string[], request: RequestHeaders): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  for (const name of names) values[name] = stored(name, request.get(name));
  return values;
}

/** True when `request` presents the same values as those stored for a variant (RFC 9111 section 4.1). */
export function varyMatches(
  kept: Readonly<Record<string, string | null>> | undefined,
  request: RequestHeaders,
): boolean {
  if (kept === undefined) return true;
  for (const name in kept) {
    if (stored(name, request.get(name)) !== kept[name]) return false;
  }
  return true;
}

/** The one language a request prefers most (highest q, no tie), lower case; `undefined` when there is none. */
function preferredLanguage(value: string | null): string | undefined {
  if (value === null) return undefined;
  let best: string | undefined;
  let bestQ = 0;
  let tie = false;
  for (const member of value.split(',')) {
    const [tag, ...params] = member.split(';').map((p) => p.trim());
    if (tag === undefined || tag === '' || tag === '*') continue;
    let q = 1;
    for (const param of params) {
      const m = /^q=([01](?:\.\d{0,3})?)$/i.exec(param);
      if (m !== null) q = Number(m[1]);
    }
    if (q > bestQ) {
      best = tag.toLowerCase();
      bestQ = q;
      tie = false;
    } else if (q === bestQ && q > 0) {
      tie = true;
    }
  }
  return tie ? undefined : best;
}

/**
 * Content negotiation the cache can judge by itself: a variant stored for another `Accept-Language` still answers
 * a request whose one most preferred language is the variant's `Content-Language` (every other varied field
 * matching as usual), since the origin would select that same variant.
 */
export function languageMatches(
  kept: Readonly<Record<string, string | null>> | undefined,
  contentLanguage: string | undefined,
  request: RequestHeaders,
): boolean {
  if (kept === undefined || contentLanguage === undefined || !('accept-language' in kept)) return false;
  const language = contentLanguage.trim().toLowerCase();
  if (language === '' || language.includes(',')) return false;
  for (const name in kept) {
    if (name === 'accept-language') continue;
    if (stored(name, request.get(name)) !== kept[name]) return false;
  }
  return preferredLanguage(request.get('accept-language')) === language;
}
